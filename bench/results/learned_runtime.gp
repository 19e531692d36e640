set terminal svg size 700,450 dynamic background rgb 'white'
set output 'bench/results/learned_runtime.svg'
set datafile separator ','
set logscale y
set key top left
set xlabel 'dimension d'
set ylabel 'seconds for 100 suggestions'
set title 'Run time of 100 steps (suggest only)'
plot 'bench/results/learned_runtime.csv' using 1:2 with linespoints lw 2 title 'GP-BO', '' using 1:3 with linespoints lw 2 title 'LSTM', '' using 1:4 with linespoints lw 2 title 'LSTM-MF'
