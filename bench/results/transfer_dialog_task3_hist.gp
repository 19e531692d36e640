# Figure 2 of seed paper 001 for the generated personalized task 3 (50 dialogues): final learned
# weights of the 18,340 related (bAbI task 5) responses, one panel per seed, from
# transfer_dialog_task3_hist.csv (written by repro_transfer_dialog --task 3; 1 eta update through
# 1 simulated step, 1200 iterations). Run from the repository root: gnuplot bench/results/transfer_dialog_task3_hist.gp
set terminal svg size 1200,380 dynamic background rgb 'white' font 'sans,10'
set output 'bench/results/transfer_dialog_task3_hist.svg'
set datafile separator ','
set style fill solid 0.6 border -1
set xrange [0:1]
set logscale y
set yrange [0.8:30000]
set xtics 0.2
set xlabel 'learned weight'
set ylabel 'related responses'
set multiplot layout 1,3 title 'Learned weights of the bAbI task 5 responses (primary: personalized task 3, 50 dialogues)'
do for [s=0:2] {
  set title sprintf('seed %d', s)
  plot 'bench/results/transfer_dialog_task3_hist.csv' using (($3 == s && $5 == 1 && $6 == 1 && $4 == 1200) ? ($7 + $8) / 2 : 1/0):($9 > 0 ? $9 : 1/0):(0.1) with boxes lc rgb '#1f77b4' notitle
}
unset multiplot
