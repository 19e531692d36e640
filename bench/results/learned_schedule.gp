set terminal svg size 800,450 dynamic background rgb 'white'
set output 'bench/results/learned_schedule.svg'
set datafile separator ','
set key top right
set xlabel 'update'
set ylabel 'held-out regret (64 functions, 20 steps)'
set title 'd = 3 candidates: validation during meta-training'
set yrange [0:2.2]
plot '< grep ^prev-default, bench/results/learned_schedule.csv' using 2:3 with lines lw 4 title 'default (3c36b9e) = first 4000 of c4', '< grep ^c4-iter16000, bench/results/learned_schedule.csv' using 2:3 with lines lw 2 title 'constant lr, 16000 updates (c2 = first 8000)', '< grep ^c5-cos8000, bench/results/learned_schedule.csv' using 2:3 with lines lw 2 title 'cosine, 8000 updates (shipped)', '< grep ^c6-cos4000, bench/results/learned_schedule.csv' using 2:3 with lines lw 2 title 'cosine, 4000 updates', '< grep ^c1-hidden128, bench/results/learned_schedule.csv' using 2:3 with lines lw 2 title '128 hidden units'
