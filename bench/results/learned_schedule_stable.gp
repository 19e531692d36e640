set terminal svg size 800,450 dynamic background rgb 'white'
set output 'bench/results/learned_schedule_stable.svg'
set datafile separator ','
set key top right
set xlabel 'update'
set ylabel 'held-out regret (64 functions, 20 steps)'
set title 'd = 3: steadier updates, and two fidelities'
set yrange [0:2.2]
plot '< grep ^shipped, bench/results/learned_schedule_stable.csv' using 2:3 with lines lw 4 title 'shipped (c5): Adam 5e-3', '< grep ^c10-lr2e-3, bench/results/learned_schedule_stable.csv' using 2:3 with lines lw 2 title 'Adam 2e-3', '< grep ^c11-batch128, bench/results/learned_schedule_stable.csv' using 2:3 with lines lw 2 title 'batch 128 (16 functions x 8 rollouts)', '< grep ^c12-ppo4, bench/results/learned_schedule_stable.csv' using 2:3 with lines lw 2 title 'PPO: 4 clipped updates per batch', '< grep ^c13-ppo4-lr2e-3, bench/results/learned_schedule_stable.csv' using 2:3 with lines lw 2 title 'PPO, 4 updates per batch, Adam 2e-3', '< grep ^mfinc-d3, bench/results/learned_schedule_stable.csv' using 2:3 with lines lw 2 title 'two fidelities (regret at budget)', '< grep ^mfinc-e1-d3, bench/results/learned_schedule_stable.csv' using 2:3 with lines lw 2 title 'two fidelities, entropy 0.01'
