set terminal svg size 1000,480
set output 'bench/results/transfer_dialog.svg'
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'per-response test accuracy (%)'
set xlabel 'primary training dialogues'
set key outside right
set yrange [40:80]
set title 'Meta-weighted transfer, personalized bAbI task 1 (mean over all seeds)'
plot 'bench/results/transfer_dialog_plot.csv' using 2:xtic(1) title 'Primary', 'bench/results/transfer_dialog_plot.csv' using 3 title 'Primary + Related Pre-Training', 'bench/results/transfer_dialog_plot.csv' using 4 title 'Primary + Related', 'bench/results/transfer_dialog_plot.csv' using 5 title 'Primary + Auxiliary Related (Multi-Task)', 'bench/results/transfer_dialog_plot.csv' using 6 title 'Weighted Auxiliary Related: Proposed', 'bench/results/transfer_dialog_plot.csv' using 7 title 'Weighted Auxiliary Related: Random-Fixed', 'bench/results/transfer_dialog_plot.csv' using 8 title 'Weighted Auxiliary Related: Random-Changing'
