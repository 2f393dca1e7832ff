# NbClust's indices for k = 3..8 on custseg's model units and custseg's own K-means partitions
# (labels/NAME.csv.gz, k = 2..9: the indices at k use the partitions at k-1 and k+1).
# NbClust's kmeans is replaced, for the data itself, by a function that returns custseg's partition, so that
# index values on identical partitions can be compared; the gap index's reference sets still get stats::kmeans.
# INDEX is "all" (NbClust's 26 indices: all but gap, gamma, gplus, tau), written to OUT/NAME_index.csv and
# OUT/NAME_best.csv; or one index of NbClust's (e.g. "kl"), whose column and best k are added to those two files
# (created if absent): on 8-9 thousand customers "all" does not finish (point-biserial and Hubert loop in R over
# the n^2 / 2 pairs), so nbclust_by_index.sh runs one index at a time under a time limit.
# Run: Rscript tests/cluster/reference/nbclust.R UNITS_FOLDER OUT_FOLDER INDEX NAME...
# (UNITS_FOLDER from export_units.py; R library with NbClust in R_LIBS)
library(NbClust)
args <- commandArgs(trailingOnly = TRUE)
units <- args[1]; out <- args[2]; index <- args[3]
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
# NbClust's spelling of each index in All.index (its columns) and in Best.nc
COLUMN <- c(kl = "KL", ch = "CH", hartigan = "Hartigan", ccc = "CCC", scott = "Scott", marriot = "Marriot",
            trcovw = "TrCovW", tracew = "TraceW", friedman = "Friedman", rubin = "Rubin", cindex = "Cindex",
            db = "DB", silhouette = "Silhouette", duda = "Duda", pseudot2 = "Pseudot2", beale = "Beale",
            ratkowsky = "Ratkowsky", ball = "Ball", ptbiserial = "Ptbiserial", frey = "Frey", mcclain = "McClain",
            dunn = "Dunn", sdindex = "SDindex", sdbw = "SDbw")
BEST <- replace(COLUMN, c("pseudot2", "ptbiserial"), c("PseudoT2", "PtBiserial"))
add <- function(file, table, key) {  # table's rows replace those with the same key in file
  if (file.exists(file)) {
    old <- read.csv(file, check.names = FALSE)
    if (key == "k") { old[setdiff(names(table), "k")] <- NULL; table <- merge(old, table, by = "k") }
    else table <- rbind(old[!(old[[key]] %in% table[[key]]), ], table)
  }
  write.csv(table, file, row.names = FALSE)
}
for (name in args[-(1:3)]) {
  Z <- as.matrix(read.csv(file.path(units, paste0(name, ".csv")), check.names = FALSE))
  labels <- read.csv(file.path(here, "labels", paste0(name, ".csv.gz")))
  env <- new.env(parent = asNamespace("NbClust"))
  env$kmeans <- function(x, centers, ...) {
    if (nrow(x) == nrow(Z) && ncol(x) == ncol(Z) && isTRUE(all(as.matrix(x) == Z)))
      return(list(cluster = labels[[paste0("k", centers)]]))
    stats::kmeans(x, centers, ...)
  }
  nb <- NbClust; environment(nb) <- env
  set.seed(1)
  res <- nb(Z, min.nc = 3, max.nc = 8, method = "kmeans", index = index)
  index_file <- file.path(out, paste0(name, "_index.csv")); best_file <- file.path(out, paste0(name, "_best.csv"))
  if (index == "all") {
    unlink(c(index_file, best_file))
    idx <- data.frame(k = as.integer(rownames(res$All.index)), res$All.index, check.names = FALSE)
    best <- data.frame(index = colnames(res$Best.nc), k = res$Best.nc[1, ], value = res$Best.nc[2, ])
    cat(name, "majority k:", names(which.max(table(res$Best.nc[1, ]))), "\n")
  } else {
    idx <- data.frame(k = as.integer(names(res$All.index)), value = unname(res$All.index))
    names(idx)[2] <- COLUMN[[index]]
    best <- data.frame(index = BEST[[index]], k = res$Best.nc[[1]], value = res$Best.nc[[2]])
  }
  add(index_file, idx, "k")
  add(best_file, best, "index")
}
