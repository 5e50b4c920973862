## name: u
ÿþ exit
