## name: maps
## maps: hash:4:x:1
exit
