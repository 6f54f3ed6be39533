/* h5util.h — thin, checked wrappers over parallel HDF5 (MPI-IO driver).
 *
 * Owns: every direct HDF5 call of the project that concerns files,
 * groups, datasets and attributes.  Each wrapper returns an h2 status (see
 * error.h); failures carry a one-line message naming the FILE and the
 * DATASET/ATTRIBUTE and what was expected versus found.  HDF5's automatic
 * error-stack printing is switched off by every open/create call, so a bad
 * file never produces an HDF5 stack dump; the innermost HDF5 message (e.g.
 * "truncated file") is appended to ours instead.
 *
 * Collectiveness (parallel HDF5 rules):
 *  - h2_h5_create, h2_h5_open_read, h2_h5_close, h2_h5_create_groups,
 *    h2_h5_create_dataset, h2_h5_write_rows_id, h2_h5_write_rows and every
 *    h2_h5_attr_write_* are COLLECTIVE over the communicator the file was
 *    opened with: all ranks call them in the same order with the same
 *    arguments (except the row range and buffer of the writes, which are
 *    per rank; a rank may write 0 rows).  They end with h2_error_sync, so
 *    either all ranks succeed or all return the same error.
 *  - reads (h2_h5_read_rows*, h2_h5_dataset_info, h2_h5_attr_read_*) are
 *    independent: any rank may call them alone.  They do not synchronise;
 *    collective callers should h2_error_sync afterwards.
 *
 * Row convention: a 1-D dataset of length G is treated as G rows of 1
 * column; a 2-D dataset (G x C) as G rows of C columns, row-major. */
#ifndef H2NN_H5UTIL_H
#define H2NN_H5UTIL_H

#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

/* Element types for memory buffers and for datasets in the file. */
typedef enum { H2_H5_F32 = 0, H2_H5_F64 = 1, H2_H5_I64 = 2 } h2_h5_type;

/* Class of a dataset's or attribute's element type, as found in a file. */
typedef enum {
  H2_H5_CLASS_FLOAT = 0,
  H2_H5_CLASS_INTEGER = 1,
  H2_H5_CLASS_STRING = 2,
  H2_H5_CLASS_OTHER = 3
} h2_h5_class;

#define H2_H5_MAXDIMS 8

typedef struct {
  h2_h5_class cls;
  size_t size;                  /* bytes per element (4 for float32, 8 for float64) */
  int is_unsigned;              /* integers: unsigned (uint8 ...) */
  int ndims;                    /* 0 = scalar */
  int64_t dims[H2_H5_MAXDIMS];
} h2_h5_info;

/* Human-readable name of a found type, e.g. "float32", "int64", "string". */
const char *h2_h5_info_typename(const h2_h5_info *info);

/* TYPE's bit layout, when it is an integer or floating-point type: 0 when
 * HDF5 can safely convert it (size, precision, offset and float fields
 * inside the value's bytes), else -1 with a description in WHY.  Other
 * classes: 0.  Damaged layouts crash HDF5's conversions (SIGBUS). */
int h2_h5_numeric_layout(hid_t type, char *why, size_t wsize);

/* Switch off HDF5's automatic error printing for this thread (idempotent;
 * called by create/open, exposed for programs that touch HDF5 otherwise). */
void h2_h5_quiet(void);

/* Create (truncate) PATH collectively with the MPI-IO driver. */
int h2_h5_create(hid_t *file, const char *path, MPI_Comm comm);
/* Open PATH read-only collectively with the MPI-IO driver.  Distinguishes
 * "no such file", "is a directory", "permission denied", "not an HDF5 file"
 * and "cannot be opened (damaged or truncated: <HDF5 reason>)". */
int h2_h5_open_read(hid_t *file, const char *path, MPI_Comm comm);
/* Close a file opened by the two above (collective); *file becomes -1.
 * Closing -1 is a no-op.  Reports a failure of the final flush. */
int h2_h5_close(hid_t *file, MPI_Comm comm);

/* Flush everything of FILE to the file system (collective); a full disk
 * is reported here, with the system's reason, before the close. */
int h2_h5_flush(hid_t file, MPI_Comm comm);

/* Create every missing group of PATH ("a/b/c", leading '/' allowed) below
 * LOC, like mkdir -p.  Collective. */
int h2_h5_create_groups(hid_t loc, const char *path, MPI_Comm comm);
/* Does the link PATH (possibly nested) exist below LOC?  Independent. */
int h2_h5_exists(hid_t loc, const char *path, int *exists);
/* Open the existing group PATH below LOC into *g ("FILE: cannot open group
 * PATH: reason" otherwise); close it with h2_h5_group_close (-1: no-op). */
int h2_h5_group_open(hid_t loc, const char *path, hid_t *g);
void h2_h5_group_close(hid_t *g);

/* Collectively create dataset NAME (parents must exist) of file type FTYPE:
 * 1-D of length grows when ndims == 1 (cols must be 1), or 2-D grows x cols.
 * Contiguous layout, no object time stamps (reproducible files). */
int h2_h5_create_dataset(hid_t loc, const char *name, h2_h5_type ftype, int ndims,
                         int64_t grows, int64_t cols, hid_t *dset, MPI_Comm comm);
/* Collectively write rows [row0, row0 + nrows) of an open dataset from BUF
 * (nrows x cols of memory type MTYPE, row-major); nrows may be 0 on any
 * rank, and the row ranges of different ranks must not overlap.  Large
 * blocks are written in several collective rounds (bounded transfer size). */
int h2_h5_write_rows_id(hid_t dset, h2_h5_type mtype, int64_t row0, int64_t nrows,
                        const void *buf, MPI_Comm comm);
/* Create + write + close in one collective call. */
int h2_h5_write_rows(hid_t loc, const char *name, h2_h5_type ftype, h2_h5_type mtype,
                     int ndims, int64_t grows, int64_t cols, int64_t row0, int64_t nrows,
                     const void *buf, MPI_Comm comm);

/* Open an existing dataset for reading ("FILE: dataset /x not found"). */
int h2_h5_open_dataset(hid_t loc, const char *name, hid_t *dset);
void h2_h5_close_dataset(hid_t *dset);
/* Element class, size, rank and dimensions of a dataset.  *exists = 0 (and
 * no error) when NAME does not exist; pass exists = NULL to make a missing
 * dataset an error. */
int h2_h5_dataset_info(hid_t loc, const char *name, h2_h5_info *info, int *exists);
int h2_h5_dataset_info_id(hid_t dset, h2_h5_info *info);
/* Read rows [row0, row0 + nrows) of a 1-D or 2-D dataset into BUF (nrows x
 * cols of MTYPE).  The dataset must have exactly `cols` columns (a 1-D
 * dataset has one): BUF is never overrun, whatever the file says.  Checks
 * the range against the dataset; a read failure (damaged file) names file
 * and dataset.  Independent. */
int h2_h5_read_rows_id(hid_t dset, h2_h5_type mtype, int64_t row0, int64_t nrows, int64_t cols,
                       void *buf);
int h2_h5_read_rows(hid_t loc, const char *name, h2_h5_type mtype, int64_t row0,
                    int64_t nrows, int64_t cols, void *buf);

/* The validated reader of a whole dataset: NAME must exist, be numeric of
 * MTYPE's class (float for F32/F64, integer for I64), have exactly `rows`
 * rows and `cols` columns (1-D allowed when cols == 1), and its stored data
 * must be plausible for its declared size (h2_h5_check_storage); then it is
 * read into BUF.  Every refusal names the file, the dataset, what was
 * expected and what was found.  Independent. */
int h2_h5_read_exact(hid_t loc, const char *name, h2_h5_type mtype, int64_t rows, int64_t cols,
                     void *buf);
/* The same checks (whole dataset rows x cols), reading only rows
 * [row0, row0 + nrows) into BUF. */
int h2_h5_read_part(hid_t loc, const char *name, h2_h5_type mtype, int64_t rows, int64_t cols,
                    int64_t row0, int64_t nrows, void *buf);

/* Refuse a dataset whose declared size cannot be backed by the file: a
 * contiguous dataset with less storage than rows x cols x element size, or
 * a chunked one with no storage or more than 1024 times less (a small
 * hostile file declaring 1e12 rows is refused before anything scans it). */
int h2_h5_check_storage(hid_t dset, const h2_h5_info *info);

/* Attributes of the object LOC (a file id means the root group).  Writes
 * are collective (all ranks, same value) and replace an existing attribute;
 * reads are independent and set *found = 0 (no error) when the attribute is
 * absent.  Numeric reads accept any integer or float scalar (or 1-element)
 * attribute; reading a string attribute as a number is an error naming it. */
int h2_h5_attr_write_double(hid_t loc, const char *name, double value, MPI_Comm comm);
int h2_h5_attr_write_int64(hid_t loc, const char *name, int64_t value, MPI_Comm comm);
int h2_h5_attr_write_string(hid_t loc, const char *name, const char *value, MPI_Comm comm);
int h2_h5_attr_read_double(hid_t loc, const char *name, double *value, int *found);
int h2_h5_attr_read_int64(hid_t loc, const char *name, int64_t *value, int *found);
/* Reads one fixed- or variable-length string attribute (ASCII or UTF-8, as
 * h5py writes them) into buf (truncated to size - 1 characters, always
 * NUL-terminated); an array of strings is refused. */
int h2_h5_attr_read_string(hid_t loc, const char *name, char *buf, size_t size, int *found);
/* Class of an attribute (*found = 0 when absent). */
int h2_h5_attr_class(hid_t loc, const char *name, h2_h5_class *cls, int *found);

/* The directory part of PATH ("." when it has none, "/" for the root). */
void h2_path_dir(const char *path, char *dir, size_t size);
/* What a non-regular file is, for messages: "a directory", "a FIFO", ... */
const char *h2_file_kind(unsigned mode);

/* The file name of any HDF5 object id ("?" if unknown), for messages. */
void h2_h5_filename(hid_t obj, char *buf, size_t size);

#endif
