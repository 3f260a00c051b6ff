import _CHDF5

/// What kind of object an HDF5 path names.
public enum HDF5ObjectKind: Sendable, Equatable {
    case group
    case dataset
    /// A named datatype or anything else this module does not read.
    case other
}

extension HDF5File {
    /// Whether `objectPath` names an existing object (a missing intermediate group is no error).
    public func exists(_ objectPath: String) -> Bool {
        let path = Self.normalized(objectPath)
        if path == "/" { return true }
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            guard H5Lexists(identifier, prefix, compare_h5p_default()) > 0 else { return false }
        }
        return true
    }

    /// The kind of object at `objectPath`, or `nil` when nothing is there.
    public func kind(of objectPath: String) throws -> HDF5ObjectKind? {
        let path = Self.normalized(objectPath)
        guard exists(path) else { return nil }
        switch compare_h5_object_type(identifier, path) {
        case Int32(H5O_TYPE_GROUP.rawValue): return .group
        case Int32(H5O_TYPE_DATASET.rawValue): return .dataset
        case -1: throw libraryError(path, "cannot inspect the object")
        default: return .other
        }
    }

    /// Creates the group `objectPath` and any missing parents; existing groups are kept.
    ///
    /// New groups track link creation order, so their children list in writing order.
    public func createGroup(_ objectPath: String) throws {
        let path = Self.normalized(objectPath)
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            switch try kind(of: prefix) {
            case .group:
                continue
            case .dataset, .other:
                throw error(prefix, "cannot create a group here: a dataset already has this name")
            case nil:
                let properties = H5Pcreate(compare_h5p_group_create())
                defer { if properties >= 0 { _ = H5Pclose(properties) } }
                if properties >= 0 {
                    _ = H5Pset_obj_track_times(properties, false)  // no timestamps: same content, same bytes
                    _ = H5Pset_link_creation_order(
                        properties, UInt32(H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED))
                }
                let group = H5Gcreate2(
                    identifier, prefix, compare_h5p_default(),
                    properties >= 0 ? properties : compare_h5p_default(), compare_h5p_default())
                guard group >= 0 else { throw libraryError(prefix, "cannot create the group") }
                _ = H5Gclose(group)
            }
        }
    }

    /// The names of the links directly inside the group `objectPath`, in creation order
    /// when the group tracks it (groups written by this module do), else in name order.
    public func children(of objectPath: String) throws -> [String] {
        let path = Self.normalized(objectPath)
        let group = H5Gopen2(identifier, path, compare_h5p_default())
        guard group >= 0 else { throw libraryError(path, "cannot open the group") }
        defer { _ = H5Gclose(group) }
        var information = H5G_info_t()
        guard H5Gget_info(group, &information) >= 0 else {
            throw libraryError(path, "cannot read the group's link table")
        }
        let count = Int(information.nlinks)
        if count == 0 { return [] }
        // Groups written without creation-order tracking (h5py's default) fail the first
        // lookup by creation order; those are listed by name.
        let index = linkName(group, H5_INDEX_CRT_ORDER, 0) != nil ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME
        var names: [String] = []
        names.reserveCapacity(count)
        for position in 0..<count {
            guard let name = linkName(group, index, position) else {
                throw libraryError(path, "cannot read link \(position) of the group")
            }
            names.append(name)
        }
        return names
    }

    private func linkName(_ group: hid_t, _ index: H5_index_t, _ position: Int) -> String? {
        let length = H5Lget_name_by_idx(
            group, ".", index, H5_ITER_INC, hsize_t(position), nil, 0, compare_h5p_default())
        guard length >= 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        let written = buffer.withUnsafeMutableBufferPointer { pointer in
            H5Lget_name_by_idx(
                group, ".", index, H5_ITER_INC, hsize_t(position), pointer.baseAddress,
                pointer.count, compare_h5p_default())
        }
        guard written >= 0 else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Every dataset below the group `objectPath`, as paths relative to it joined with `/`
    /// (`encoder/layers/0/weight`), depth first in ``children(of:)`` order.
    public func datasetPaths(under objectPath: String) throws -> [String] {
        let root = Self.normalized(objectPath)
        var result: [String] = []
        func visit(_ absolute: String, _ relative: String) throws {
            for name in try children(of: absolute) {
                let childAbsolute = absolute == "/" ? "/" + name : absolute + "/" + name
                let childRelative = relative.isEmpty ? name : relative + "/" + name
                switch try kind(of: childAbsolute) {
                case .group: try visit(childAbsolute, childRelative)
                case .dataset: result.append(childRelative)
                default: continue
                }
            }
        }
        try visit(root, "")
        return result
    }
}
