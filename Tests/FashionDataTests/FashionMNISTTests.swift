import XCTest
import FashionData

final class FashionMNISTTests: XCTestCase {
    func testLoadsRealDataset() throws {
        let data = try FashionMNIST.load(directory: FashionMNIST.defaultDirectory)
        XCTAssertEqual(data.train.count, 60_000)
        XCTAssertEqual(data.test.count, 10_000)
        for set in [data.train, data.test] {
            XCTAssertEqual(set.rows, 28)
            XCTAssertEqual(set.cols, 28)
            XCTAssertEqual(set.pixels.count, set.count * 784)
            XCTAssertEqual(set.labels.count, set.count)
        }
        var histogram = [Int](repeating: 0, count: 10)
        for l in data.train.labels { histogram[Int(l)] += 1 }
        XCTAssertEqual(histogram, [Int](repeating: 6000, count: 10))

        let lo = -FashionMNIST.mean / FashionMNIST.std
        let hi = (1 - FashionMNIST.mean) / FashionMNIST.std
        let minPixel = data.train.pixels.min()!
        let maxPixel = data.train.pixels.max()!
        XCTAssertEqual(minPixel, lo, accuracy: 1e-5)
        XCTAssertEqual(maxPixel, hi, accuracy: 1e-5)
        // The fixed constants normalize the training set to mean ~0, std ~1.
        let n = Double(data.train.pixels.count)
        let mean = data.train.pixels.reduce(0.0) { $0 + Double($1) } / n
        let variance = data.train.pixels.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance.squareRoot(), 1, accuracy: 0.01)
    }
}
