import Training
print("hi")
