set terminal svg size 1200,400 dynamic background rgb 'white'
set output 'bench/results/sampler_regret.svg'
set datafile separator ','
set key autotitle columnhead
set logscale y
set multiplot layout 1,3
set xlabel 'trial'
set ylabel 'median simple regret'
set title 'branin (20 seeds)'
plot 'bench/results/sampler_regret_branin.csv' using 1:2 with lines lw 2, 'bench/results/sampler_regret_branin.csv' using 1:3 with lines lw 2, 'bench/results/sampler_regret_branin.csv' using 1:4 with lines lw 2
set title 'hartmann3 (20 seeds)'
plot 'bench/results/sampler_regret_hartmann3.csv' using 1:2 with lines lw 2, 'bench/results/sampler_regret_hartmann3.csv' using 1:3 with lines lw 2, 'bench/results/sampler_regret_hartmann3.csv' using 1:4 with lines lw 2
set title 'hartmann6 (20 seeds)'
plot 'bench/results/sampler_regret_hartmann6.csv' using 1:2 with lines lw 2, 'bench/results/sampler_regret_hartmann6.csv' using 1:3 with lines lw 2, 'bench/results/sampler_regret_hartmann6.csv' using 1:4 with lines lw 2
unset multiplot
