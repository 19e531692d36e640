set terminal svg size 760,460 dynamic background rgb 'white'
set output 'bench/results/trial_overhead.svg'
set datafile separator ','
set datafile missing ''
set logscale y
set key top left
set xlabel 'trials in the study'
set ylabel 'seconds since the run started'
set title 'Random sampler on Branin: cumulative wall time (one run to 10,000 trials)'
plot for [i=2:7] 'bench/results/trial_overhead.csv' using 1:i with lines lw 2 title columnhead(i)
