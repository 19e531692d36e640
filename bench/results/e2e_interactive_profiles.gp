set terminal svg size 1200,400 dynamic background rgb 'white'
set output 'bench/results/e2e_interactive_profiles.svg'
set datafile separator ','
set multiplot layout 1,3
set xlabel 'RL dialogues'
set key bottom right font ',9'
set title 'task success rate (mean +- sd over seeds)'
plot 'bench/results/e2e_interactive_profiles_blocks.csv' index 0 using 1:2:5 with yerrorlines lw 2 title 'SL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 1 using 1:2:5 with yerrorlines lw 2 title 'SL+RL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 2 using 1:2:5 with yerrorlines lw 2 title 'SL+IL500+RL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 3 using 1:2:5 with yerrorlines lw 2 title 'SL+IL1000+RL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 4 using 1:2:5 with yerrorlines lw 2 title 'SL+RL policy-only'
set title 'turns (successful dialogues) (mean +- sd over seeds)'
plot 'bench/results/e2e_interactive_profiles_blocks.csv' index 0 using 1:3:6 with yerrorlines lw 2 title 'SL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 1 using 1:3:6 with yerrorlines lw 2 title 'SL+RL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 2 using 1:3:6 with yerrorlines lw 2 title 'SL+IL500+RL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 3 using 1:3:6 with yerrorlines lw 2 title 'SL+IL1000+RL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 4 using 1:3:6 with yerrorlines lw 2 title 'SL+RL policy-only'
set title 'joint state accuracy (mean +- sd over seeds)'
plot 'bench/results/e2e_interactive_profiles_blocks.csv' index 0 using 1:4:7 with yerrorlines lw 2 title 'SL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 1 using 1:4:7 with yerrorlines lw 2 title 'SL+RL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 2 using 1:4:7 with yerrorlines lw 2 title 'SL+IL500+RL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 3 using 1:4:7 with yerrorlines lw 2 title 'SL+IL1000+RL', 'bench/results/e2e_interactive_profiles_blocks.csv' index 4 using 1:4:7 with yerrorlines lw 2 title 'SL+RL policy-only'
unset multiplot
