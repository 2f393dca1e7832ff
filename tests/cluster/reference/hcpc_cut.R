# FactoMineR's HCPC automatic cut (R/HCPC.R of FactoMineR 2.14, auto.cut.tree) in base R, on custseg's model units.
# As HCPC does on a data frame (kk = Inf): PCA(scale.unit = FALSE, ncp = Inf) coordinates (prcomp's: all components,
# so the data's distances), rows ordered by the first coordinate, unit weights, dissimilarity
# dist^2 * w_i w_j / (sum(w) (w_i + w_j)) = dist^2 / (2 n), Ward's method as flashClust's "ward" (= stats::hclust
# "ward.D", the Lance-Williams update on these squared distances), inert.gain = rev(height): inert.gain[j] is the
# within-segment inertia (sum of squares over n) lost from j to j + 1 segments. FactoMineR's live cut:
#   quot <- inert.gain[min:max] / inert.gain[(min + 1):(max + 1)];  nb.clust <- which.max(quot) + min
# after max <- max(max + 1, min); max <- min(max, n - 1) (max = NULL: min(10, round(n / 2))), so its candidates are
# k = min + 1 .. max + 1 and the criterion at k is inert.gain[k - 1] / inert.gain[k].
# Writes OUT/NAME_gain.csv (j = 1..15, inert_gain) and OUT/cuts.csv, per dataset: n; cut_default, HCPC's defaults
# (min = 3, max = NULL: k = 4..11 or more); cut_3_8, the same lines over custseg's range k = 3..8 (min = 2, max = 6);
# old_cut_3_8, the commented-out "Ancien calcul" (lowest intra[k] / intra[k - 1], intra[k] the within inertia of k
# segments) over k = 3..8.
# Run: Rscript tests/cluster/reference/hcpc_cut.R UNITS_FOLDER OUT_FOLDER NAME...  (UNITS_FOLDER from export_units.py)
args <- commandArgs(trailingOnly = TRUE)
units <- args[1]; out <- args[2]
cut_tree <- function(inert.gain, n, min = 3, max = NULL) {  # FactoMineR's lines, verbatim
  if (is.null(max)) max <- min(10, round(n / 2))
  max <- max(max + 1, min)
  max <- min(max, n - 1)
  quot <- inert.gain[min:max] / inert.gain[(min + 1):(max + 1)]
  which.max(quot) + min
}
cuts <- NULL
for (name in args[-(1:2)]) {
  Z <- as.matrix(read.csv(file.path(units, paste0(name, ".csv")), check.names = FALSE))
  X <- prcomp(Z, center = TRUE, scale. = FALSE)$x
  X <- X[order(X[, 1]), , drop = FALSE]
  n <- nrow(X); weight <- rep(1, n)
  eff <- 1 / (2 * n)  # outer(weight, weight, function(x, y, n) x * y / n / (x + y), n = sum(weight)), all equal
  hc <- hclust(dist(X)^2 * eff, method = "ward.D", members = weight)
  inert.gain <- rev(hc$height)
  intra <- rev(cumsum(rev(inert.gain)))  # intra[k]: within inertia of k segments
  write.csv(data.frame(j = 1:15, inert_gain = sprintf("%.17g", inert.gain[1:15])),
            file.path(out, paste0(name, "_gain.csv")), row.names = FALSE, quote = FALSE)
  old <- intra[3:8] / intra[2:7]
  cuts <- rbind(cuts, data.frame(data = name, n = n, cut_default = cut_tree(inert.gain, n),
                                 cut_3_8 = cut_tree(inert.gain, n, 2, 6), old_cut_3_8 = which.min(old) + 2))
}
print(cuts)
write.csv(cuts, file.path(out, "cuts.csv"), row.names = FALSE, quote = FALSE)
