import _CHDF5

/// How a dataset's values are laid out on disk.
public enum DatasetStorage: Sendable, Equatable {
    /// Contiguous, uncompressed.
    case contiguous
    /// Chunked along the first axis and compressed with deflate (gzip) at `level` 1…9.
    case compressed(level: Int)
    /// ``compressed(level:)`` at level 4 for arrays of ``automaticThreshold`` elements or
    /// more, ``contiguous`` below that.
    case automatic

    /// Arrays with at least this many elements are compressed under ``automatic``.
    public static let automaticThreshold = 4096

    /// Target size of one chunk in bytes (h5py suggests 10 KiB to 1 MiB).
    static let chunkBytes = 256 * 1024
}

extension HDF5File {
    /// Writes a new dataset of `shape` at `objectPath`, creating missing parent groups.
    ///
    /// - Parameters:
    ///   - values: row-major values, `values.count == shape.reduce(1, *)`.
    ///   - shape: extent per axis; `[]` writes a scalar.
    ///   - storage: contiguous, or chunked and deflate-compressed (see ``DatasetStorage``).
    /// - Throws: ``StoreError`` if the count and shape disagree, the object exists, or HDF5 fails.
    public func write<Element: HDF5Element>(
        _ values: [Element], shape: [Int], to objectPath: String, storage: DatasetStorage = .automatic
    ) throws {
        let path = Self.normalized(objectPath)
        guard path != "/" else { throw error(path, "the root group cannot be a dataset") }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw error(path, "negative extent in shape \(shape)")
        }
        let expected = shape.reduce(1, *)
        guard values.count == expected else {
            throw error(path, "\(values.count) values do not fill shape \(shape) (\(expected) elements)")
        }
        if exists(path) { throw error(path, "already exists") }
        try createGroup(Self.parent(of: path))

        let space: hid_t
        if shape.isEmpty {
            space = H5Screate(H5S_SCALAR)
        } else {
            let dimensions = shape.map { hsize_t($0) }
            space = H5Screate_simple(Int32(shape.count), dimensions, nil)
        }
        guard space >= 0 else { throw libraryError(path, "cannot create a dataspace of shape \(shape)") }
        defer { _ = H5Sclose(space) }

        let properties = H5Pcreate(compare_h5p_dataset_create())
        guard properties >= 0 else { throw libraryError(path, "cannot create dataset properties") }
        defer { _ = H5Pclose(properties) }
        // No modification times in object headers: the same content gives the same file bytes,
        // so a regenerated dataset keeps its SHA-256.
        _ = H5Pset_obj_track_times(properties, false)
        if let level = compressionLevel(storage, count: expected), !shape.isEmpty, !shape.contains(0) {
            let chunk = Self.chunkShape(shape, elementBytes: Element.elementType.byteCount)
            guard H5Pset_chunk(properties, Int32(chunk.count), chunk.map { hsize_t($0) }) >= 0,
                  H5Pset_deflate(properties, UInt32(level)) >= 0
            else { throw libraryError(path, "cannot set chunked deflate storage") }
        }

        let dataset = H5Dcreate2(
            identifier, path, Element.elementType.fileType, space, compare_h5p_default(), properties,
            compare_h5p_default())
        guard dataset >= 0 else { throw libraryError(path, "cannot create the dataset") }
        defer { _ = H5Dclose(dataset) }
        guard expected > 0 else { return }
        let status = values.withUnsafeBufferPointer { buffer in
            H5Dwrite(
                dataset, Element.elementType.memoryType, compare_h5s_all(), compare_h5s_all(),
                compare_h5p_default(), buffer.baseAddress)
        }
        guard status >= 0 else { throw libraryError(path, "cannot write the values") }
    }

    /// Writes a ``StoredArray`` (see ``write(_:shape:to:storage:)``).
    public func write<Element: HDF5Element>(
        _ array: StoredArray<Element>, to objectPath: String, storage: DatasetStorage = .automatic
    ) throws {
        try write(array.values, shape: array.shape, to: objectPath, storage: storage)
    }

    private func compressionLevel(_ storage: DatasetStorage, count: Int) -> Int? {
        switch storage {
        case .contiguous: return nil
        case .compressed(let level): return min(9, max(1, level))
        case .automatic: return count >= DatasetStorage.automaticThreshold ? 4 : nil
        }
    }

    /// Chunks span whole rows: `[rows, shape[1], …]` with rows chosen so one chunk holds
    /// about ``DatasetStorage/chunkBytes`` bytes (at least one row, at most all of them).
    static func chunkShape(_ shape: [Int], elementBytes: Int) -> [Int] {
        let rowElements = shape.dropFirst().reduce(1, *)
        let rows = max(1, min(shape[0], DatasetStorage.chunkBytes / max(1, rowElements * elementBytes)))
        if rowElements * elementBytes > DatasetStorage.chunkBytes, shape.count > 1 {
            // One row is already larger than a chunk: split the trailing axes too.
            var chunk = shape
            chunk[0] = 1
            var elements = chunk.reduce(1, *)
            var axis = 1
            while elements * elementBytes > DatasetStorage.chunkBytes, axis < chunk.count {
                let reduced = max(1, chunk[axis] / 2)
                elements = elements / chunk[axis] * reduced
                chunk[axis] = reduced
                if reduced == 1 { axis += 1 }
            }
            return chunk
        }
        return [rows] + shape.dropFirst()
    }

    /// The shape and element type of the dataset at `objectPath`, without reading values.
    public func describeDataset(_ objectPath: String) throws -> DatasetDescription {
        let path = Self.normalized(objectPath)
        let dataset = try openDataset(path)
        defer { _ = H5Dclose(dataset) }
        return try describe(dataset, path)
    }

    /// Reads the whole dataset at `objectPath`.
    ///
    /// - Parameter converting: when `false` (the default) the stored element type must be
    ///   exactly `Element`'s; when `true` any numeric type is converted by HDF5 (for example
    ///   float64 → float32, with rounding).
    /// - Throws: ``StoreError`` when the dataset is missing, has another type, or cannot be read.
    public func read<Element: HDF5Element>(
        _ type: Element.Type, from objectPath: String, converting: Bool = false
    ) throws -> StoredArray<Element> {
        let path = Self.normalized(objectPath)
        let dataset = try openDataset(path)
        defer { _ = H5Dclose(dataset) }
        let description = try describe(dataset, path)
        if description.elementType != Element.elementType {
            if !converting || description.elementType == nil {
                throw error(
                    path,
                    "stored as \(description.typeName), expected \(Element.elementType.rawValue)")
            }
        }
        let count = try plausibleElementCount(description.shape, bytesPerElement: MemoryLayout<Element>.stride, path)
        guard count > 0 else { return StoredArray(shape: description.shape, values: []) }
        var status: herr_t = 0
        let values = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Dread(
                dataset, Element.elementType.memoryType, compare_h5s_all(), compare_h5s_all(),
                compare_h5p_default(), buffer.baseAddress)
            initialized = count
        }
        guard status >= 0 else {
            throw libraryError(path, "cannot read the values (damaged or truncated file?)")
        }
        return StoredArray(shape: description.shape, values: values)
    }

    /// The number of elements of `shape`, refusing a shape no file this size can hold (more
    /// than 2000 bytes per byte of file: deflate's ratio is at most about 1000:1), which only a
    /// damaged dataspace declares, before anything is allocated for it.
    func plausibleElementCount(_ shape: [Int], bytesPerElement: Int, _ path: String) throws -> Int {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow, product >= 0 else { throw error(path, "declares the impossible shape \(shape) (damaged file?)") }
            count = product
        }
        var fileSize: hsize_t = 0
        if H5Fget_filesize(identifier, &fileSize) >= 0 {
            let (bytes, overflow) = count.multipliedReportingOverflow(by: bytesPerElement)
            let limit = Double(fileSize) * 2000 + 1_048_576
            guard !overflow, Double(bytes) <= limit else {
                throw error(path, "declares shape \(shape), more data than a file of \(fileSize) bytes can hold (damaged file?)")
            }
        }
        return count
    }

    func openDataset(_ path: String) throws -> hid_t {
        switch try kind(of: path) {
        case nil: throw error(path, "no such dataset")
        case .group: throw error(path, "is a group, expected a dataset")
        case .other: throw error(path, "is not a dataset")
        case .dataset: break
        }
        let dataset = H5Dopen2(identifier, path, compare_h5p_default())
        guard dataset >= 0 else { throw libraryError(path, "cannot open the dataset") }
        return dataset
    }

    private func describe(_ dataset: hid_t, _ path: String) throws -> DatasetDescription {
        let type = H5Dget_type(dataset)
        guard type >= 0 else { throw libraryError(path, "cannot read the element type") }
        defer { _ = H5Tclose(type) }
        let (elementType, typeName) = HDF5ElementType.classify(type)
        let shape = try Self.extent(of: H5Dget_space(dataset)) {
            self.libraryError(path, "cannot read the shape")
        }
        return DatasetDescription(shape: shape, elementType: elementType, typeName: typeName)
    }

    /// The extent of a dataspace (closing it); `[]` for a scalar space.
    static func extent(of space: hid_t, _ failure: () -> StoreError) throws -> [Int] {
        guard space >= 0 else { throw failure() }
        defer { _ = H5Sclose(space) }
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { throw failure() }
        if rank == 0 {
            // A scalar space has one element; a null space (H5S_NULL) has none.
            return H5Sget_simple_extent_type(space) == H5S_NULL ? [0] : []
        }
        var dimensions = [hsize_t](repeating: 0, count: Int(rank))
        guard H5Sget_simple_extent_dims(space, &dimensions, nil) >= 0 else { throw failure() }
        // A damaged file may declare extents beyond Int.max: a failure, not a trap.
        let extents = dimensions.compactMap { Int(exactly: $0) }
        guard extents.count == dimensions.count else { throw failure() }
        return extents
    }
}
