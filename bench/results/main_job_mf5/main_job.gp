set terminal svg size 800,500
set output 'bench/results/main_job_mf5/main_job.svg'
set datafile separator ','
set key bottom right
set xlabel 'cost (full evaluations)'
set ylabel 'best success so far (study seeds)'
plot 'bench/results/main_job_mf5/best_vs_cost.csv' using 1:2 with lines lw 2 dt 1 title 'lstm-mf'
