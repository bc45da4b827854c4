// module ldsc
