set terminal svg size 800,450 dynamic background rgb 'white'
set output 'bench/results/dqn_dialog_sf_restaurant.svg'
set datafile separator ','
set key bottom right
set xlabel 'training dialogues'
set ylabel 'test success rate'
set yrange [0.5:1.02]
set title 'DQN on the sf_restaurant domain (10 seeds, mean +- 95 % CI)'
plot 'bench/results/dqn_dialog_sf_restaurant_curve.csv' using 1:2:3 with yerrorlines lw 2 lc 1 title 'env1 DQN', 'bench/results/dqn_dialog_sf_restaurant_curve.csv' using 1:4 with lines dt 2 lc 1 title 'env1 rule', 'bench/results/dqn_dialog_sf_restaurant_curve.csv' using 1:5:6 with yerrorlines lw 2 lc 2 title 'env3 DQN', 'bench/results/dqn_dialog_sf_restaurant_curve.csv' using 1:7 with lines dt 2 lc 2 title 'env3 rule', 'bench/results/dqn_dialog_sf_restaurant_curve.csv' using 1:8:9 with yerrorlines lw 2 lc 3 title 'env4 DQN', 'bench/results/dqn_dialog_sf_restaurant_curve.csv' using 1:10 with lines dt 2 lc 3 title 'env4 rule', 'bench/results/dqn_dialog_sf_restaurant_curve.csv' using 1:11:12 with yerrorlines lw 2 lc 4 title 'env5 DQN', 'bench/results/dqn_dialog_sf_restaurant_curve.csv' using 1:13 with lines dt 2 lc 4 title 'env5 rule', 'bench/results/dqn_dialog_sf_restaurant_curve.csv' using 1:14:15 with yerrorlines lw 2 lc 5 title 'env6 DQN', 'bench/results/dqn_dialog_sf_restaurant_curve.csv' using 1:16 with lines dt 2 lc 5 title 'env6 rule'
