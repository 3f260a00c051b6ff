import _CHDF5

extension HDF5File {
    /// Sets the attribute `name` on the group or dataset at `objectPath` (default: the root),
    /// replacing any attribute of that name.
    public func setAttribute(_ name: String, to value: AttributeValue, at objectPath: String = "/") throws {
        let path = Self.normalized(objectPath)
        let object = attributeObjectName(name, of: path)
        guard exists(path) else { throw error(path, "no such object to attach attribute '\(name)' to") }
        if H5Aexists_by_name(identifier, path, name, compare_h5p_default()) > 0 {
            guard H5Adelete_by_name(identifier, path, name, compare_h5p_default()) >= 0 else {
                throw libraryError(object, "cannot replace the attribute")
            }
        }
        switch value {
        case .string(let text):
            let type = try Self.variableLengthStringType { self.libraryError(object, "cannot make a string type") }
            defer { _ = H5Tclose(type) }
            let space = H5Screate(H5S_SCALAR)
            defer { _ = H5Sclose(space) }
            let attribute = H5Acreate_by_name(
                identifier, path, name, type, space, compare_h5p_default(), compare_h5p_default(),
                compare_h5p_default())
            guard attribute >= 0 else { throw libraryError(object, "cannot create the attribute") }
            defer { _ = H5Aclose(attribute) }
            let status = text.withCString { characters -> herr_t in
                var pointer: UnsafePointer<CChar>? = characters
                return H5Awrite(attribute, type, &pointer)
            }
            guard status >= 0 else { throw libraryError(object, "cannot write the attribute") }
        case .integer(let number):
            try writeNumericAttribute([number], scalar: true, name: name, path: path)
        case .unsignedInteger(let number):
            try writeNumericAttribute([number], scalar: true, name: name, path: path)
        case .double(let number):
            try writeNumericAttribute([number], scalar: true, name: name, path: path)
        case .integers(let numbers):
            try writeNumericAttribute(numbers, scalar: false, name: name, path: path)
        case .doubles(let numbers):
            try writeNumericAttribute(numbers, scalar: false, name: name, path: path)
        }
    }

    private func writeNumericAttribute<Element: HDF5Element>(
        _ values: [Element], scalar: Bool, name: String, path: String
    ) throws {
        let object = attributeObjectName(name, of: path)
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, [hsize_t(values.count)], nil)
        guard space >= 0 else { throw libraryError(object, "cannot create the attribute's dataspace") }
        defer { _ = H5Sclose(space) }
        let attribute = H5Acreate_by_name(
            identifier, path, name, Element.elementType.fileType, space, compare_h5p_default(),
            compare_h5p_default(), compare_h5p_default())
        guard attribute >= 0 else { throw libraryError(object, "cannot create the attribute") }
        defer { _ = H5Aclose(attribute) }
        guard !values.isEmpty else { return }
        let status = values.withUnsafeBufferPointer { buffer in
            H5Awrite(attribute, Element.elementType.memoryType, buffer.baseAddress)
        }
        guard status >= 0 else { throw libraryError(object, "cannot write the attribute") }
    }

    /// Whether the object at `objectPath` has an attribute `name`.
    public func hasAttribute(_ name: String, at objectPath: String = "/") -> Bool {
        let path = Self.normalized(objectPath)
        guard exists(path) else { return false }
        return H5Aexists_by_name(identifier, path, name, compare_h5p_default()) > 0
    }

    /// The names of the attributes of the object at `objectPath`, in name order.
    public func attributeNames(at objectPath: String = "/") throws -> [String] {
        let path = Self.normalized(objectPath)
        guard exists(path) else { throw error(path, "no such object") }
        let object = H5Oopen(identifier, path, compare_h5p_default())
        guard object >= 0 else { throw libraryError(path, "cannot open the object") }
        defer { _ = H5Oclose(object) }
        let count = compare_h5_attribute_count(object)
        guard count >= 0 else { throw libraryError(path, "cannot count the attributes") }
        var names: [String] = []
        for position in 0..<Int(count) {
            let length = H5Aget_name_by_idx(
                object, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(position), nil, 0, compare_h5p_default())
            guard length >= 0 else { throw libraryError(path, "cannot read attribute name \(position)") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            let written = buffer.withUnsafeMutableBufferPointer { pointer in
                H5Aget_name_by_idx(
                    object, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(position), pointer.baseAddress,
                    pointer.count, compare_h5p_default())
            }
            guard written >= 0 else { throw libraryError(path, "cannot read attribute name \(position)") }
            names.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        return names
    }

    /// The attribute `name` of the object at `objectPath`, or `nil` if it has none.
    ///
    /// - Throws: ``StoreError`` if the object is missing or the attribute has a type this
    ///   module does not read (compound, enum, string arrays, …).
    public func attribute(_ name: String, at objectPath: String = "/") throws -> AttributeValue? {
        let path = Self.normalized(objectPath)
        guard exists(path) else { throw error(path, "no such object") }
        guard H5Aexists_by_name(identifier, path, name, compare_h5p_default()) > 0 else { return nil }
        let object = attributeObjectName(name, of: path)
        let attribute = H5Aopen_by_name(identifier, path, name, compare_h5p_default(), compare_h5p_default())
        guard attribute >= 0 else { throw libraryError(object, "cannot open the attribute") }
        defer { _ = H5Aclose(attribute) }
        let type = H5Aget_type(attribute)
        guard type >= 0 else { throw libraryError(object, "cannot read the attribute's type") }
        defer { _ = H5Tclose(type) }
        let shape = try Self.extent(of: H5Aget_space(attribute)) {
            self.libraryError(object, "cannot read the attribute's shape")
        }
        let count = try plausibleElementCount(shape, bytesPerElement: 8, object)
        let isScalar = shape.isEmpty

        switch H5Tget_class(type) {
        case H5T_STRING:
            guard isScalar || count == 1 else {
                throw error(object, "is an array of \(count) strings; expected a single string")
            }
            return .string(try readString(attribute, type: type, object: object))
        case H5T_INTEGER:
            let unsigned64 = H5Tget_sign(type) == H5T_SGN_NONE && H5Tget_size(type) == 8
            if unsigned64 {
                let values: [UInt64] = try readNumbers(attribute, count: count, object: object)
                if isScalar { return .unsignedInteger(values[0]) }
                let signed = values.compactMap { Int64(exactly: $0) }
                guard signed.count == values.count else {
                    throw error(object, "holds unsigned values above Int64.max")
                }
                return .integers(signed)
            }
            let values: [Int64] = try readNumbers(attribute, count: count, object: object)
            return isScalar ? .integer(values[0]) : .integers(values)
        case H5T_FLOAT:
            let values: [Double] = try readNumbers(attribute, count: count, object: object)
            return isScalar ? .double(values[0]) : .doubles(values)
        default:
            let (_, typeName) = HDF5ElementType.classify(type)
            throw error(object, "has type \(typeName); expected a string, integer or float")
        }
    }

    private func readNumbers<Element: HDF5Element>(
        _ attribute: hid_t, count: Int, object: String
    ) throws -> [Element] {
        guard count > 0 else { return [] }
        var status: herr_t = 0
        let values = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = H5Aread(attribute, Element.elementType.memoryType, buffer.baseAddress)
            initialized = count
        }
        guard status >= 0 else { throw libraryError(object, "cannot read the attribute") }
        return values
    }

    private func readString(_ attribute: hid_t, type: hid_t, object: String) throws -> String {
        if H5Tis_variable_str(type) > 0 {
            let memoryType = try Self.variableLengthStringType { self.libraryError(object, "cannot make a string type") }
            defer { _ = H5Tclose(memoryType) }
            var pointer: UnsafeMutablePointer<CChar>? = nil
            guard H5Aread(attribute, memoryType, &pointer) >= 0 else {
                throw libraryError(object, "cannot read the string")
            }
            defer { if let pointer { _ = H5free_memory(pointer) } }
            return pointer.map { String(cString: $0) } ?? ""
        }
        let size = H5Tget_size(type)
        // Attribute values are stored uncompressed: a string longer than the file is damage.
        var fileSize: hsize_t = 0
        _ = H5Fget_filesize(identifier, &fileSize)
        guard size > 0, size <= Swift.max(Int(clamping: fileSize), 1 << 16) else {
            throw error(object, "declares a string of \(size) bytes (damaged file?)")
        }
        let memoryType = H5Tcopy(compare_h5_c_s1())
        guard memoryType >= 0 else { throw libraryError(object, "cannot make a string type") }
        defer { _ = H5Tclose(memoryType) }
        _ = H5Tset_size(memoryType, size)
        _ = H5Tset_strpad(memoryType, H5T_STR_NULLPAD)
        var bytes = [UInt8](repeating: 0, count: size + 1)
        let status = bytes.withUnsafeMutableBytes { buffer in
            H5Aread(attribute, memoryType, buffer.baseAddress)
        }
        guard status >= 0 else { throw libraryError(object, "cannot read the string") }
        let end = bytes.firstIndex(of: 0) ?? size
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// A variable-length, UTF-8 C string type (the caller closes it).
    static func variableLengthStringType(_ failure: () -> StoreError) throws -> hid_t {
        let type = H5Tcopy(compare_h5_c_s1())
        guard type >= 0,
              H5Tset_size(type, compare_h5t_variable()) >= 0,
              H5Tset_cset(type, H5T_CSET_UTF8) >= 0
        else { throw failure() }
        return type
    }
}
