// module cauchy
