set terminal svg size 800,500
set output 'bench/results/main_job/main_job.svg'
set datafile separator ','
set key bottom right
set xlabel 'cost (full evaluations)'
set ylabel 'best success so far (study seeds)'
plot 'bench/results/main_job/best_vs_cost.csv' using 1:2 with lines lw 2 dt 1 title 'random', 'bench/results/main_job/best_vs_cost.csv' using 1:3 with lines lw 2 dt 1 title 'sobol', 'bench/results/main_job/best_vs_cost.csv' using 1:4 with lines lw 2 dt 1 title 'tpe', 'bench/results/main_job/best_vs_cost.csv' using 1:5 with lines lw 2 dt 1 title 'gp', 'bench/results/main_job/best_vs_cost.csv' using 1:6 with lines lw 2 dt 1 title 'lstm', 'bench/results/main_job/best_vs_cost.csv' using 1:7 with lines lw 2 dt 1 title 'lstm-mf', 'bench/results/main_job/best_vs_cost.csv' using 1:8 with lines lw 2 dt 1 title 'asha', 'bench/results/main_job/best_vs_cost.csv' using 1:9 with lines lw 2 dt 1 title 'hyperband', 'bench/results/main_job/best_vs_cost.csv' using 1:10 with lines lw 2 dt 2 title 'bohb'
