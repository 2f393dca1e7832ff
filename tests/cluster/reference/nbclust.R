# NbClust's 26 indices ("all": all but gamma, gplus, tau) for k = 3..8 on custseg's model units and custseg's
# own K-means partitions (labels/NAME.csv.gz, k = 2..9: the indices at k use the partitions at k-1 and k+1).
# NbClust's kmeans is replaced, for the data itself, by a function that returns custseg's partition, so that
# index values on identical partitions can be compared; the gap index's reference sets still get stats::kmeans.
# Run: Rscript tests/cluster/reference/nbclust.R UNITS_FOLDER OUT_FOLDER NAME...
# (UNITS_FOLDER from export_units.py; R library with NbClust in R_LIBS)
library(NbClust)
args <- commandArgs(trailingOnly = TRUE)
units <- args[1]; out <- args[2]
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
for (name in args[-(1:2)]) {
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
  res <- nb(Z, min.nc = 3, max.nc = 8, method = "kmeans", index = "all")
  idx <- data.frame(k = as.integer(rownames(res$All.index)), res$All.index, check.names = FALSE)
  write.csv(idx, file.path(out, paste0(name, "_index.csv")), row.names = FALSE)
  best <- data.frame(index = colnames(res$Best.nc), k = res$Best.nc[1, ], value = res$Best.nc[2, ])
  write.csv(best, file.path(out, paste0(name, "_best.csv")), row.names = FALSE)
  cat(name, "majority k:", names(which.max(table(res$Best.nc[1, ]))), "\n")
}
