set terminal svg size 800,450 dynamic background rgb 'white'
set output 'bench/results/learned_schedule_perfn.svg'
set datafile separator ','
set key top right
set xlabel 'update'
set ylabel 'held-out regret (64 functions, 20 steps)'
set title 'd = 3: advantages scaled per function'
set yrange [0:2.2]
plot '< grep ^shipped, bench/results/learned_schedule_perfn.csv' using 2:3 with lines lw 4 title 'shipped (c5)', '< grep ^c14-perfn, bench/results/learned_schedule_perfn.csv' using 2:3 with lines lw 2 title 'advantages per function', '< grep ^c15-perfn-seed2, bench/results/learned_schedule_perfn.csv' using 2:3 with lines lw 2 title 'the same, training seed 2', '< grep ^c16-perfn-seed3, bench/results/learned_schedule_perfn.csv' using 2:3 with lines lw 2 title 'the same, training seed 3', '< grep ^c17-perfloor, bench/results/learned_schedule_perfn.csv' using 2:3 with lines lw 2 title 'advantages per function, each sd floored at the batch sd', '< grep ^c7-cos8000-seed2, bench/results/learned_schedule_perfn.csv' using 2:3 with lines lw 2 title 'c7: the c5 recipe, training seed 2', '< grep ^c8-cos8000-seed3, bench/results/learned_schedule_perfn.csv' using 2:3 with lines lw 2 title 'c8: the c5 recipe, training seed 3'
