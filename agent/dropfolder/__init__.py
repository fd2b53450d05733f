"""The drop folder: .eml, .mbox, .ics, .vcf and .csv files imported once, then moved to processed/ or rejected/."""
