set terminal svg size 720,420 dynamic
set output 'bench/results/lstm_dialog.svg'
set datafile separator ','
set key bottom right
set xlabel 'training dialogues'
set ylabel 'test success rate'
set title 'DQN on sf_restaurant env5: default vs tuned'
plot 'bench/results/lstm_dialog.csv' using 2:(strcol(1) eq 'default' ? $3 : 1/0):4 with yerrorlines title 'default', 'bench/results/lstm_dialog.csv' using 2:(strcol(1) eq 'gp' ? $3 : 1/0):4 with yerrorlines title 'gp', 'bench/results/lstm_dialog.csv' using 2:(strcol(1) eq 'lstm' ? $3 : 1/0):4 with yerrorlines title 'lstm', 'bench/results/lstm_dialog.csv' using 2:(strcol(1) eq 'lstm-mf' ? $3 : 1/0):4 with yerrorlines title 'lstm-mf'
