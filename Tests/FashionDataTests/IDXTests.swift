import XCTest
@testable import FashionData

final class IDXTests: XCTestCase {
    func testGoodGzipFilesParse() throws {
        let fx = try IDXFixtures()
        let imgs = fx.writeGzip("i.gz", IDXFixtures.imagesFile(count: 3, rows: 2, cols: 4))
        let labs = fx.writeGzip("l.gz", IDXFixtures.labelsFile([0, 9, 4]))
        let r = try IDX.readImages(path: imgs)
        XCTAssertEqual(r.count, 3)
        XCTAssertEqual(r.rows, 2)
        XCTAssertEqual(r.cols, 4)
        XCTAssertEqual(r.bytes, (0..<24).map { UInt8($0 * 7) })
        XCTAssertEqual(try IDX.readLabels(path: labs), [0, 9, 4])
    }

    func testPlainFilesParse() throws {
        let fx = try IDXFixtures()
        let labs = fx.writePlain("l", IDXFixtures.labelsFile([1, 2, 3, 4, 5]))
        XCTAssertEqual(try IDX.readLabels(path: labs), [1, 2, 3, 4, 5])
        let imgs = fx.writePlain("i", IDXFixtures.imagesFile(count: 1, rows: 3, cols: 3))
        XCTAssertEqual(try IDX.readImages(path: imgs).bytes.count, 9)
    }

    func testEmptySetParses() throws {
        let fx = try IDXFixtures()
        XCTAssertEqual(try IDX.readLabels(path: fx.writeGzip("l.gz", IDXFixtures.labelsFile([]))), [])
    }

    func testMissingFile() throws {
        let fx = try IDXFixtures()
        let path = fx.dir + "/train-images-idx3-ubyte.gz"
        let msg = dataErrorMessage { try IDX.readImages(path: path) }
        XCTAssertEqual(msg, "\(path): file not found; run launch/setup (installs dataset-fashion-mnist) or pass --data-dir")
    }

    func testTruncatedPayload() throws {
        let fx = try IDXFixtures()
        let full = IDXFixtures.imagesFile(count: 10, rows: 28, cols: 28)
        let path = fx.writeGzip("i.gz", Array(full.prefix(16 + 1234)))
        let msg = dataErrorMessage { try IDX.readImages(path: path) }
        XCTAssertEqual(msg, "\(path): truncated: header says 10 images of 28x28 (7840 bytes) but the file holds 1234; reinstall with launch/setup")
    }

    func testTruncatedHeader() throws {
        let fx = try IDXFixtures()
        let path = fx.writeGzip("l.gz", [0, 0, 8])
        let msg = try XCTUnwrap(dataErrorMessage { try IDX.readLabels(path: path) })
        XCTAssertTrue(msg.hasPrefix("\(path): truncated:"), msg)
    }

    func testTruncatedGzipStream() throws {
        let fx = try IDXFixtures()
        let good = fx.writeGzip("good.gz", IDXFixtures.imagesFile(count: 50, rows: 28, cols: 28))
        let compressed = fx.read(good)
        let path = fx.writePlain("cut.gz", Array(compressed.prefix(compressed.count / 2)))
        let msg = try XCTUnwrap(dataErrorMessage { try IDX.readImages(path: path) })
        XCTAssertTrue(msg.hasPrefix("\(path): truncated: header says 50 images of 28x28 (39200 bytes) but the file holds "), msg)
        XCTAssertTrue(msg.hasSuffix("; reinstall with launch/setup"), msg)
    }

    func testCorruptGzipData() throws {
        let fx = try IDXFixtures()
        let good = fx.writeGzip("good.gz", IDXFixtures.labelsFile((0..<2000).map { UInt8($0 % 10) }))
        var bytes = fx.read(good)
        // Flip bits in the trailing CRC32: the data inflates but fails its check.
        bytes[bytes.count - 6] ^= 0xFF
        let path = fx.writePlain("bad.gz", bytes)
        let msg = try XCTUnwrap(dataErrorMessage { try IDX.readLabels(path: path) })
        XCTAssertTrue(msg.hasPrefix("\(path): not readable as gzip, corrupt data (zlib: "), msg)
    }

    func testWrongMagic() throws {
        let fx = try IDXFixtures()
        let path = fx.writeGzip("i.gz", IDXFixtures.labelsFile([1, 2, 3]))
        XCTAssertEqual(dataErrorMessage { try IDX.readImages(path: path) },
                       "\(path): bad magic 0x00000801, expected 0x00000803 (an IDX images file); reinstall with launch/setup")
        let lpath = fx.writeGzip("l.gz", IDXFixtures.imagesFile(count: 1, rows: 1, cols: 1))
        XCTAssertEqual(dataErrorMessage { try IDX.readLabels(path: lpath) },
                       "\(lpath): bad magic 0x00000803, expected 0x00000801 (an IDX labels file); reinstall with launch/setup")
    }

    func testLyingHeaderDoesNotAllocateWildly() throws {
        let fx = try IDXFixtures()
        let path = fx.writeGzip("i.gz", IDXFixtures.bigEndian([0x803, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF]))
        let msg = try XCTUnwrap(dataErrorMessage { try IDX.readImages(path: path) })
        XCTAssertTrue(msg.hasPrefix("\(path): implausible header"), msg)
        let lpath = fx.writeGzip("l.gz", IDXFixtures.bigEndian([0x801, 0x7FFF_FFFF]))
        XCTAssertTrue(try XCTUnwrap(dataErrorMessage { try IDX.readLabels(path: lpath) }).hasPrefix("\(lpath): implausible header"))
    }

    func testTrailingBytes() throws {
        let fx = try IDXFixtures()
        let path = fx.writeGzip("l.gz", IDXFixtures.labelsFile([1, 2, 3, 4], declared: 3))
        let msg = try XCTUnwrap(dataErrorMessage { try IDX.readLabels(path: path) })
        XCTAssertTrue(msg.hasPrefix("\(path): has trailing bytes"), msg)
    }

    func testCountMismatchAndDims() throws {
        let fx = try IDXFixtures()
        fx.writeGzip("train-images-idx3-ubyte.gz", IDXFixtures.imagesFile(count: 3, rows: 28, cols: 28))
        fx.writeGzip("train-labels-idx1-ubyte.gz", IDXFixtures.labelsFile([1, 2]))
        XCTAssertEqual(dataErrorMessage { try FashionMNIST.loadSplit(directory: fx.dir, prefix: "train") },
                       "\(fx.dir)/train-labels-idx1-ubyte.gz: holds 2 labels but \(fx.dir)/train-images-idx3-ubyte.gz holds 3 images; reinstall with launch/setup")

        fx.writeGzip("t10k-images-idx3-ubyte.gz", IDXFixtures.imagesFile(count: 2, rows: 27, cols: 28))
        fx.writeGzip("t10k-labels-idx1-ubyte.gz", IDXFixtures.labelsFile([1, 2]))
        let msg = try XCTUnwrap(dataErrorMessage { try FashionMNIST.loadSplit(directory: fx.dir, prefix: "t10k") })
        XCTAssertTrue(msg.hasPrefix("\(fx.dir)/t10k-images-idx3-ubyte.gz: images are 27x28, expected 28x28"), msg)
    }

    func testSyntheticSplitLoadsAndNormalizes() throws {
        let fx = try IDXFixtures()
        let payload = [UInt8](repeating: 0, count: 784) + [UInt8](repeating: 255, count: 784)
        fx.writeGzip("t10k-images-idx3-ubyte.gz", IDXFixtures.imagesFile(count: 2, rows: 28, cols: 28, payload: payload))
        fx.writeGzip("t10k-labels-idx1-ubyte.gz", IDXFixtures.labelsFile([3, 7]))
        let set = try FashionMNIST.loadSplit(directory: fx.dir + "/", prefix: "t10k")
        XCTAssertEqual(set.count, 2)
        XCTAssertEqual(set.labels, [3, 7])
        XCTAssertEqual(set.pixels[0], -0.2860 / 0.3530, accuracy: 1e-5)
        XCTAssertEqual(set.pixels[784], (1 - 0.2860) / 0.3530, accuracy: 1e-5)
    }
}
