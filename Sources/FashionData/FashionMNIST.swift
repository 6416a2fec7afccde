/// Images as normalized floats plus their labels.
public struct ImageSet: Sendable {
    public let count: Int
    public let rows: Int
    public let cols: Int
    /// count*rows*cols, row-major per image: (x/255 - mean) / std.
    public let pixels: [Float]
    public let labels: [UInt8]

    public init(count: Int, rows: Int, cols: Int, pixels: [Float], labels: [UInt8]) {
        precondition(pixels.count == count * rows * cols && labels.count == count)
        self.count = count
        self.rows = rows
        self.cols = cols
        self.pixels = pixels
        self.labels = labels
    }
}

/// Fashion-MNIST (Xiao et al. 2017): 60,000 train and 10,000 test 28x28 grayscale images, 10 classes.
public struct FashionMNIST: Sendable {
    public let train: ImageSet
    public let test: ImageSet

    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    /// Fixed normalization constants of the Fashion-MNIST training set.
    public static let mean: Float = 0.2860
    public static let std: Float = 0.3530
    public static let classes = 10
    /// Images in the training split (the test split has 10,000).
    public static let trainCount = 60_000

    public init(train: ImageSet, test: ImageSet) {
        self.train = train
        self.test = test
    }

    /// Loads `{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz` from `directory`.
    public static func load(directory: String = defaultDirectory) throws -> FashionMNIST {
        FashionMNIST(train: try loadSplit(directory: directory, prefix: "train"),
                     test: try loadSplit(directory: directory, prefix: "t10k"))
    }

    /// Loads one split (`prefix` is "train" or "t10k") and checks it is 28x28 with matching counts.
    public static func loadSplit(directory: String, prefix: String) throws -> ImageSet {
        let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let imagesPath = "\(dir)/\(prefix)-images-idx3-ubyte.gz"
        let labelsPath = "\(dir)/\(prefix)-labels-idx1-ubyte.gz"
        let images = try IDX.readImages(path: imagesPath)
        guard images.rows == 28, images.cols == 28 else {
            throw DataError("\(imagesPath): images are \(images.rows)x\(images.cols), expected 28x28 (Fashion-MNIST); \(IDX.reinstall) or pass --data-dir")
        }
        let labels = try IDX.readLabels(path: labelsPath)
        guard labels.count == images.count else {
            throw DataError("\(labelsPath): holds \(labels.count) labels but \(imagesPath) holds \(images.count) images; \(IDX.reinstall)")
        }
        if let bad = labels.firstIndex(where: { Int($0) >= classes }) {
            throw DataError("\(labelsPath): label \(labels[bad]) at index \(bad) is not a class 0..<\(classes); \(IDX.reinstall)")
        }
        return ImageSet(count: images.count, rows: images.rows, cols: images.cols,
                        pixels: normalize(images.bytes), labels: labels)
    }

    /// (x/255 - mean) / std for every byte.
    public static func normalize(_ bytes: [UInt8]) -> [Float] {
        let scale = 1 / (255 * std)
        let shift = mean / std
        return [Float](unsafeUninitializedCapacity: bytes.count) { out, initialized in
            bytes.withUnsafeBufferPointer { src in
                for i in 0..<src.count { out[i] = Float(src[i]) * scale - shift }
            }
            initialized = bytes.count
        }
    }
}
