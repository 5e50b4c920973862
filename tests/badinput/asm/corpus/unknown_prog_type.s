## name: pt
## prog_type: no_such_type
exit
