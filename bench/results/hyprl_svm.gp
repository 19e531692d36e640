set terminal svg size 1200,450 dynamic background rgb 'white'
set output 'bench/results/hyprl_svm.svg'
set datafile separator ','
set key autotitle columnhead
set multiplot layout 1,2
set xlabel 'trial'
set ylabel 'average rank (1 = best)'
set title 'average rank over 50 data sets x 3 seeds'
plot 'bench/results/hyprl_svm.csv' using 1:2 with lines lw 2 title 'hyprl', 'bench/results/hyprl_svm.csv' using 1:3 with lines lw 2 title 'hyprl-rf', 'bench/results/hyprl_svm.csv' using 1:4 with lines lw 2 title 'random', 'bench/results/hyprl_svm.csv' using 1:5 with lines lw 2 title 'gp', 'bench/results/hyprl_svm.csv' using 1:6 with lines lw 2 title 'gp-warm', 'bench/results/hyprl_svm.csv' using 1:7 with lines lw 2 title 'gp-grid', 'bench/results/hyprl_svm.csv' using 1:8 with lines lw 2 title 'gp-grid-warm', 'bench/results/hyprl_svm.csv' using 1:9 with lines lw 2 title 'avg-order'
set ylabel 'average normalized regret'
set logscale y
set title 'average normalized regret'
plot 'bench/results/hyprl_svm.csv' using 1:($10 > 1e-4 ? $10 : 1e-4) with lines lw 2 title 'hyprl', 'bench/results/hyprl_svm.csv' using 1:($11 > 1e-4 ? $11 : 1e-4) with lines lw 2 title 'hyprl-rf', 'bench/results/hyprl_svm.csv' using 1:($12 > 1e-4 ? $12 : 1e-4) with lines lw 2 title 'random', 'bench/results/hyprl_svm.csv' using 1:($13 > 1e-4 ? $13 : 1e-4) with lines lw 2 title 'gp', 'bench/results/hyprl_svm.csv' using 1:($14 > 1e-4 ? $14 : 1e-4) with lines lw 2 title 'gp-warm', 'bench/results/hyprl_svm.csv' using 1:($15 > 1e-4 ? $15 : 1e-4) with lines lw 2 title 'gp-grid', 'bench/results/hyprl_svm.csv' using 1:($16 > 1e-4 ? $16 : 1e-4) with lines lw 2 title 'gp-grid-warm', 'bench/results/hyprl_svm.csv' using 1:($17 > 1e-4 ? $17 : 1e-4) with lines lw 2 title 'avg-order'
unset multiplot
