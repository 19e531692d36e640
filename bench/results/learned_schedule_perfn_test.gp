set terminal svg size 1800,380 dynamic background rgb 'white'
set output 'bench/results/learned_schedule_perfn_test.svg'
set datafile separator ','
set logscale y
set key top right font ',9'
set style fill transparent solid 0.12 noborder
set multiplot layout 1,4
set xlabel 'trial'
set ylabel 'median simple regret (band: quartiles)'
set title 'hartmann3 (d=3)' noenhanced
plot 'bench/results/learned_schedule_perfn_test_hartmann3.csv' every ::1 using 1:3:4 with filledcurves lc 1 notitle, 'bench/results/learned_schedule_perfn_test_hartmann3.csv' every ::1 using 1:2 with lines lw 2 lc 1 title 'random', 'bench/results/learned_schedule_perfn_test_hartmann3.csv' every ::1 using 1:6:7 with filledcurves lc 2 notitle, 'bench/results/learned_schedule_perfn_test_hartmann3.csv' every ::1 using 1:5 with lines lw 2 lc 2 title 'GP-BO', 'bench/results/learned_schedule_perfn_test_hartmann3.csv' every ::1 using 1:9:10 with filledcurves lc 3 notitle, 'bench/results/learned_schedule_perfn_test_hartmann3.csv' every ::1 using 1:8 with lines lw 2 lc 3 title 'LSTM-inc *', 'bench/results/learned_schedule_perfn_test_hartmann3.csv' every ::1 using 1:12:13 with filledcurves lc 4 notitle, 'bench/results/learned_schedule_perfn_test_hartmann3.csv' every ::1 using 1:11 with lines lw 2 lc 4 title 'C14', 'bench/results/learned_schedule_perfn_test_hartmann3.csv' every ::1 using 1:15:16 with filledcurves lc 5 notitle, 'bench/results/learned_schedule_perfn_test_hartmann3.csv' every ::1 using 1:14 with lines lw 2 lc 5 title 'C15'
set title 'gp_prior_d3 (d=3)' noenhanced
plot 'bench/results/learned_schedule_perfn_test_gp_prior_d3.csv' every ::1 using 1:3:4 with filledcurves lc 1 notitle, 'bench/results/learned_schedule_perfn_test_gp_prior_d3.csv' every ::1 using 1:2 with lines lw 2 lc 1 title 'random', 'bench/results/learned_schedule_perfn_test_gp_prior_d3.csv' every ::1 using 1:6:7 with filledcurves lc 2 notitle, 'bench/results/learned_schedule_perfn_test_gp_prior_d3.csv' every ::1 using 1:5 with lines lw 2 lc 2 title 'GP-BO', 'bench/results/learned_schedule_perfn_test_gp_prior_d3.csv' every ::1 using 1:9:10 with filledcurves lc 3 notitle, 'bench/results/learned_schedule_perfn_test_gp_prior_d3.csv' every ::1 using 1:8 with lines lw 2 lc 3 title 'LSTM-inc *', 'bench/results/learned_schedule_perfn_test_gp_prior_d3.csv' every ::1 using 1:12:13 with filledcurves lc 4 notitle, 'bench/results/learned_schedule_perfn_test_gp_prior_d3.csv' every ::1 using 1:11 with lines lw 2 lc 4 title 'C14', 'bench/results/learned_schedule_perfn_test_gp_prior_d3.csv' every ::1 using 1:15:16 with filledcurves lc 5 notitle, 'bench/results/learned_schedule_perfn_test_gp_prior_d3.csv' every ::1 using 1:14 with lines lw 2 lc 5 title 'C15'
unset multiplot
