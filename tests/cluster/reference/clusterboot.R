# fpc's clusterboot (bootmethod "boot", B resamples, seed) on custseg's model units, for each segment of custseg's
# own K-means partitions (labels/NAME.csv.gz) at k = 3..8: the original partition is custseg's, each resample is
# refitted by fpc's kmeansCBI (R's kmeans, `runs` random starts). fpc is not installed (heavy dependencies): its
# clusterboot.R and addclustermethods.R are sourced from the package sources.
# Run: Rscript tests/cluster/reference/clusterboot.R FPC_SOURCES UNITS_FOLDER OUT_FILE B RUNS NAME...
args <- commandArgs(trailingOnly = TRUE)
fpc <- args[1]; units <- args[2]; out <- args[3]; B <- as.integer(args[4]); runs <- as.integer(args[5])
source(file.path(fpc, "R", "clusterboot.R")); source(file.path(fpc, "R", "addclustermethods.R"))
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
rows <- list()
for (name in args[-(1:5)]) {
  Z <- as.matrix(read.csv(file.path(units, paste0(name, ".csv")), check.names = FALSE))
  labels <- read.csv(file.path(here, "labels", paste0(name, ".csv.gz")))
  for (k in 3:8) {
    given <- labels[[paste0("k", k)]]
    method <- function(data, k) {  # custseg's partition for the data itself, kmeansCBI for the resamples
      if (nrow(data) == nrow(Z)) return(list(nc = k, clusterlist = lapply(1:k, function(i) given == i),
                                             partition = given, clustermethod = "custseg"))
      kmeansCBI(data, k = k, runs = runs)
    }
    cb <- clusterboot(Z, B = B, bootmethod = "boot", clustermethod = method, k = k, seed = 1, count = FALSE)
    rows[[length(rows) + 1]] <- data.frame(case = name, k = k, segment = 1:k, bootmean = cb$bootmean)
  }
}
write.csv(do.call(rbind, rows), out, row.names = FALSE)
