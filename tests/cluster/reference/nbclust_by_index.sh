#!/bin/sh
# NbClust one index at a time (nbclust.R INDEX mode), each under a time limit, lowest CPU priority, one R process
# at a time; each run's wall time and outcome (finished, or "timeout") go to OUT_FOLDER/NAME_seconds.csv.
# Run: R_LIBS=... sh tests/cluster/reference/nbclust_by_index.sh UNITS_FOLDER OUT_FOLDER LIMIT_SECONDS NAME INDEX...
units=$1; out=$2; limit=$3; name=$4; shift 4
here=$(dirname "$0")
seconds="$out/${name}_seconds.csv"
[ -f "$seconds" ] || echo "index,seconds,outcome" > "$seconds"
for index in "$@"; do
  start=$(date +%s)
  if timeout "$limit" nice -n 19 Rscript "$here/nbclust.R" "$units" "$out" "$index" "$name" > /dev/null 2>&1; then
    outcome=finished
  else
    outcome=$( [ $? -eq 124 ] && echo timeout || echo error )
  fi
  echo "$index,$(( $(date +%s) - start )),$outcome" >> "$seconds"
done
