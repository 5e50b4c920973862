## name: lbl
ja nowhere
exit
