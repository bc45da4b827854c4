// module dist
