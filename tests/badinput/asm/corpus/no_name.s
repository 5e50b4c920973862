## name:
exit
