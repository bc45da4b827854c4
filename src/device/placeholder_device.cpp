// module device
