set terminal svg size 900,840 dynamic background rgb 'white'
set output 'bench/results/online_controller_dqn.svg'
set logscale x
set xrange [0.8:12.5]
set key bottom right font ',9'
set xlabel 'total training dialogues (x L = 2000)'
set ylabel 'test success rate (%)'
set multiplot layout 2,1
set yrange [83:101]
set title 'env3 (5 seeds, mean +- sd)'
plot 'bench/results/online_controller_dqn_means.dat' index 0 using 1:2:3 with yerrorlines lw 2 pt 4 title 'fixed default', 'bench/results/online_controller_dqn_means.dat' index 1 using 1:2:3 with yerrorlines lw 2 pt 5 title 'cosine', 'bench/results/online_controller_dqn_means.dat' index 2 using 1:2:3 with yerrorlines lw 2 pt 6 title 'controller (online)', 'bench/results/online_controller_dqn_means.dat' index 3 using 1:2:3 with yerrorlines lw 2 pt 7 title 'controller (meta-trained, frozen)', 'bench/results/online_controller_dqn_means.dat' index 4 using 1:2:3 with yerrorlines lw 2 pt 8 title 'random search best fixed', 'bench/results/online_controller_dqn_means.dat' index 5 using 1:2:3 with yerrorlines lw 2 pt 9 title 'GP-BO best fixed', 'bench/results/online_controller_dqn_means.dat' index 6 using 1:2:3 with yerrorlines lw 2 pt 10 title 'PBT (equal compute: 4 x L/4)', 'bench/results/online_controller_dqn_means.dat' index 7 using 1:2:3 with yerrorlines lw 2 pt 11 title 'PBT'
set yrange [77:95]
set title 'env6 (5 seeds, mean +- sd)'
plot 'bench/results/online_controller_dqn_means.dat' index 8 using 1:2:3 with yerrorlines lw 2 pt 4 title 'fixed default', 'bench/results/online_controller_dqn_means.dat' index 9 using 1:2:3 with yerrorlines lw 2 pt 5 title 'cosine', 'bench/results/online_controller_dqn_means.dat' index 10 using 1:2:3 with yerrorlines lw 2 pt 6 title 'controller (online)', 'bench/results/online_controller_dqn_means.dat' index 11 using 1:2:3 with yerrorlines lw 2 pt 7 title 'controller (meta-trained, frozen)', 'bench/results/online_controller_dqn_means.dat' index 12 using 1:2:3 with yerrorlines lw 2 pt 8 title 'random search best fixed', 'bench/results/online_controller_dqn_means.dat' index 13 using 1:2:3 with yerrorlines lw 2 pt 9 title 'GP-BO best fixed', 'bench/results/online_controller_dqn_means.dat' index 14 using 1:2:3 with yerrorlines lw 2 pt 10 title 'PBT (equal compute: 4 x L/4)', 'bench/results/online_controller_dqn_means.dat' index 15 using 1:2:3 with yerrorlines lw 2 pt 11 title 'PBT'
unset multiplot
