set terminal svg size 1200,400 dynamic background rgb 'white'
set output 'bench/results/e2e_interactive_profiles_seed3.svg'
set datafile separator ','
set multiplot layout 1,3
set xlabel 'RL dialogues'
set key bottom right font ',9'
set title 'task success rate'
plot 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 0 using 1:2 with linespoints lw 2 title 'SL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 1 using 1:2 with linespoints lw 2 title 'SL+RL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 2 using 1:2 with linespoints lw 2 title 'SL+IL500+RL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 3 using 1:2 with linespoints lw 2 title 'SL+IL1000+RL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 4 using 1:2 with linespoints lw 2 title 'SL+RL policy-only'
set title 'turns (successful dialogues)'
plot 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 0 using 1:3 with linespoints lw 2 title 'SL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 1 using 1:3 with linespoints lw 2 title 'SL+RL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 2 using 1:3 with linespoints lw 2 title 'SL+IL500+RL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 3 using 1:3 with linespoints lw 2 title 'SL+IL1000+RL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 4 using 1:3 with linespoints lw 2 title 'SL+RL policy-only'
set title 'joint state accuracy'
plot 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 0 using 1:4 with linespoints lw 2 title 'SL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 1 using 1:4 with linespoints lw 2 title 'SL+RL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 2 using 1:4 with linespoints lw 2 title 'SL+IL500+RL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 3 using 1:4 with linespoints lw 2 title 'SL+IL1000+RL', 'bench/results/e2e_interactive_profiles_seed3_blocks.csv' index 4 using 1:4 with linespoints lw 2 title 'SL+RL policy-only'
unset multiplot
