"""From raw files to model inputs: read a source (folder tree, FER-2013 CSV, FER+ layout, crowd
votes), preprocess and clean every face, store the arrays, and split them into parts."""
