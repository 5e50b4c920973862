## name: hdr
## prog_typ: xdp
exit
