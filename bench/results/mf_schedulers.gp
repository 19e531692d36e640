set terminal svg size 1600,400 dynamic background rgb 'white'
set output 'bench/results/mf_schedulers.svg'
set datafile separator ','
set datafile missing ''
set key autotitle columnhead
set logscale y
set multiplot layout 1,4
set xlabel 'cost (target-fidelity evaluations)'
set ylabel 'median simple regret'
set title 'branin_mf (20 seeds)'
plot 'bench/results/mf_schedulers_branin_mf.csv' using 1:2 with lines lw 2, 'bench/results/mf_schedulers_branin_mf.csv' using 1:3 with lines lw 2, 'bench/results/mf_schedulers_branin_mf.csv' using 1:4 with lines lw 2, 'bench/results/mf_schedulers_branin_mf.csv' using 1:5 with lines lw 2, 'bench/results/mf_schedulers_branin_mf.csv' using 1:6 with lines lw 2, 'bench/results/mf_schedulers_branin_mf.csv' using 1:7 with lines lw 2, 'bench/results/mf_schedulers_branin_mf.csv' using 1:8 with lines lw 2, 'bench/results/mf_schedulers_branin_mf.csv' using 1:9 with lines lw 2
set title 'currin_mf (20 seeds)'
plot 'bench/results/mf_schedulers_currin_mf.csv' using 1:2 with lines lw 2, 'bench/results/mf_schedulers_currin_mf.csv' using 1:3 with lines lw 2, 'bench/results/mf_schedulers_currin_mf.csv' using 1:4 with lines lw 2, 'bench/results/mf_schedulers_currin_mf.csv' using 1:5 with lines lw 2, 'bench/results/mf_schedulers_currin_mf.csv' using 1:6 with lines lw 2, 'bench/results/mf_schedulers_currin_mf.csv' using 1:7 with lines lw 2, 'bench/results/mf_schedulers_currin_mf.csv' using 1:8 with lines lw 2, 'bench/results/mf_schedulers_currin_mf.csv' using 1:9 with lines lw 2
set title 'hartmann3_mf (20 seeds)'
plot 'bench/results/mf_schedulers_hartmann3_mf.csv' using 1:2 with lines lw 2, 'bench/results/mf_schedulers_hartmann3_mf.csv' using 1:3 with lines lw 2, 'bench/results/mf_schedulers_hartmann3_mf.csv' using 1:4 with lines lw 2, 'bench/results/mf_schedulers_hartmann3_mf.csv' using 1:5 with lines lw 2, 'bench/results/mf_schedulers_hartmann3_mf.csv' using 1:6 with lines lw 2, 'bench/results/mf_schedulers_hartmann3_mf.csv' using 1:7 with lines lw 2, 'bench/results/mf_schedulers_hartmann3_mf.csv' using 1:8 with lines lw 2, 'bench/results/mf_schedulers_hartmann3_mf.csv' using 1:9 with lines lw 2
set title 'hartmann6_mf (20 seeds)'
plot 'bench/results/mf_schedulers_hartmann6_mf.csv' using 1:2 with lines lw 2, 'bench/results/mf_schedulers_hartmann6_mf.csv' using 1:3 with lines lw 2, 'bench/results/mf_schedulers_hartmann6_mf.csv' using 1:4 with lines lw 2, 'bench/results/mf_schedulers_hartmann6_mf.csv' using 1:5 with lines lw 2, 'bench/results/mf_schedulers_hartmann6_mf.csv' using 1:6 with lines lw 2, 'bench/results/mf_schedulers_hartmann6_mf.csv' using 1:7 with lines lw 2, 'bench/results/mf_schedulers_hartmann6_mf.csv' using 1:8 with lines lw 2, 'bench/results/mf_schedulers_hartmann6_mf.csv' using 1:9 with lines lw 2
unset multiplot
