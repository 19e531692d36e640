set terminal svg size 1400,350 dynamic font 'sans,10'
set output 'bench/results/learned_entropy.svg'
set datafile separator ','
set multiplot layout 1,5
set xlabel 'updates'
set ylabel 'held-out regret'
set key top right font ',8' opaque box
set xtics 1000
set title 'd = 1, bumps 0.05-0.4'
plot 'bench/results/learned_entropy.csv' using (($1==1 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0.01' && $4==1) ? $5 : 1/0):6 with lines title 'entropy 0.01, 1 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==1 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0.01' && $4==8) ? $5 : 1/0):6 with lines title 'entropy 0.01, 8 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==1 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0' && $4==1) ? $5 : 1/0):6 with lines title 'entropy 0, 1 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==1 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0' && $4==8) ? $5 : 1/0):6 with lines title 'entropy 0, 8 rollout(s)'
set title 'd = 2, bumps 0.05-0.4'
plot 'bench/results/learned_entropy.csv' using (($1==2 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0.01' && $4==1) ? $5 : 1/0):6 with lines title 'entropy 0.01, 1 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==2 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0.01' && $4==8) ? $5 : 1/0):6 with lines title 'entropy 0.01, 8 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==2 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0' && $4==1) ? $5 : 1/0):6 with lines title 'entropy 0, 1 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==2 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0' && $4==8) ? $5 : 1/0):6 with lines title 'entropy 0, 8 rollout(s)'
set title 'd = 3, bumps 0.05-0.4'
plot 'bench/results/learned_entropy.csv' using (($1==3 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0.01' && $4==1) ? $5 : 1/0):6 with lines title 'entropy 0.01, 1 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==3 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0.01' && $4==8) ? $5 : 1/0):6 with lines title 'entropy 0.01, 8 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==3 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0' && $4==1) ? $5 : 1/0):6 with lines title 'entropy 0, 1 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==3 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0' && $4==8) ? $5 : 1/0):6 with lines title 'entropy 0, 8 rollout(s)'
set title 'd = 6, bumps 0.05-0.4'
plot 'bench/results/learned_entropy.csv' using (($1==6 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0.01' && $4==1) ? $5 : 1/0):6 with lines title 'entropy 0.01, 1 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==6 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0.01' && $4==8) ? $5 : 1/0):6 with lines title 'entropy 0.01, 8 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==6 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0' && $4==1) ? $5 : 1/0):6 with lines title 'entropy 0, 1 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==6 && strcol(2) eq 'bumps 0.05-0.4' && strcol(3) eq '0' && $4==8) ? $5 : 1/0):6 with lines title 'entropy 0, 8 rollout(s)'
set title 'd = 6, bumps 0.15-0.6'
plot 'bench/results/learned_entropy.csv' using (($1==6 && strcol(2) eq 'bumps 0.15-0.6' && strcol(3) eq '0.01' && $4==8) ? $5 : 1/0):6 with lines title 'entropy 0.01, 8 rollout(s)', 'bench/results/learned_entropy.csv' using (($1==6 && strcol(2) eq 'bumps 0.15-0.6' && strcol(3) eq '0' && $4==8) ? $5 : 1/0):6 with lines title 'entropy 0, 8 rollout(s)'
unset multiplot
