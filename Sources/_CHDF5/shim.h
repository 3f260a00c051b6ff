#ifndef COMPARE_CHDF5_SHIM_H
#define COMPARE_CHDF5_SHIM_H
// Swift cannot import HDF5's type and property-list identifiers: they are C macros
// that expand to `(H5open(), H5T_NATIVE_FLOAT_g)` and similar. Each one is exposed
// below as a `static inline` function named `compare_h5_<macro>`.
//
// Debian's libhdf5-dev installs the serial headers under /usr/include/hdf5/serial/.
#if __has_include(<hdf5/serial/hdf5.h>)
#include <hdf5/serial/hdf5.h>
#else
#include <hdf5.h>
#endif
#include <zlib.h>
#include <string.h>
#include <stdio.h>

// Native memory types.
static inline hid_t compare_h5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t compare_h5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t compare_h5_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t compare_h5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t compare_h5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t compare_h5_native_uint64(void) { return H5T_NATIVE_UINT64; }

// Little-endian file types (what h5py writes by default on x86 and ARM).
static inline hid_t compare_h5_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t compare_h5_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t compare_h5_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t compare_h5_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t compare_h5_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t compare_h5_std_u64le(void) { return H5T_STD_U64LE; }
static inline hid_t compare_h5_c_s1(void) { return H5T_C_S1; }

// Property lists and special values.
static inline hid_t compare_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t compare_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t compare_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t compare_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t compare_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t compare_h5p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t compare_h5s_all(void) { return H5S_ALL; }
static inline hid_t compare_h5e_default(void) { return H5E_DEFAULT; }
static inline size_t compare_h5t_variable(void) { return H5T_VARIABLE; }

// File access flags.
static inline unsigned compare_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned compare_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline unsigned compare_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned compare_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }

/// Switches off HDF5's automatic printing of error stacks to stderr.
static inline herr_t compare_h5_silence_errors(void) {
    return H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/// The kind of object at `name` relative to `location`: 0 group, 1 dataset,
/// 2 named datatype, -1 on failure (H5O_type_t values, with the 1.10 API spelled out).
static inline int compare_h5_object_type(hid_t location, const char *name) {
    H5O_info_t info;
    if (H5Oget_info_by_name1(location, name, &info, H5P_DEFAULT) < 0) return -1;
    return (int)info.type;
}

/// Number of attributes attached to the object `location`, or -1 on failure.
static inline int compare_h5_attribute_count(hid_t location) {
    H5O_info_t info;
    if (H5Oget_info2(location, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
    return (int)info.num_attrs;
}

struct compare_h5_error_buffer { char *text; size_t size; int found; };

static herr_t compare_h5_error_walker(unsigned n, const H5E_error2_t *error, void *data) {
    struct compare_h5_error_buffer *buffer = (struct compare_h5_error_buffer *)data;
    (void)n;
    if (error && error->desc && error->desc[0]) {
        // Walking upward visits the most specific error first: keep that one.
        if (!buffer->found) {
            char major[128] = {0};
            char minor[128] = {0};
            H5Eget_msg(error->maj_num, NULL, major, sizeof major);
            H5Eget_msg(error->min_num, NULL, minor, sizeof minor);
            snprintf(buffer->text, buffer->size, "%s (%s: %s)", error->desc, major, minor);
            buffer->found = 1;
        }
    }
    return 0;
}

/// Copies the most specific message of the current HDF5 error stack into `text`
/// (NUL-terminated, at most `size` bytes). Returns 1 if there was a message, 0 if not.
static inline int compare_h5_last_error(char *text, size_t size) {
    struct compare_h5_error_buffer buffer = { text, size, 0 };
    if (size > 0) text[0] = 0;
    hid_t stack = H5Eget_current_stack();
    if (stack < 0) return 0;
    H5Ewalk2(stack, H5E_WALK_UPWARD, compare_h5_error_walker, &buffer);
    H5Eclose_stack(stack);
    return buffer.found;
}

#endif
