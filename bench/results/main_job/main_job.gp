set terminal svg size 800,500
set output 'bench/results/main_job/main_job.svg'
set datafile separator ','
set key bottom right
set xlabel 'cost (full evaluations)'
set ylabel 'best success so far (study seeds)'
plot 'bench/results/main_job/best_vs_cost.csv' using 1:2 with lines title 'random', 'bench/results/main_job/best_vs_cost.csv' using 1:3 with lines title 'tpe', 'bench/results/main_job/best_vs_cost.csv' using 1:4 with lines title 'gp', 'bench/results/main_job/best_vs_cost.csv' using 1:5 with lines title 'lstm-mf', 'bench/results/main_job/best_vs_cost.csv' using 1:6 with lines title 'asha'
