/*
 * ferry.connectors._pgpump: moves the data of a COPY TO STDOUT on one libpq
 * connection into a COPY FROM STDIN on another, one CopyData message (one
 * row) at a time, without the Python interpreter and with the GIL released.
 *
 * PostgreSQL sends one message per row; read from Python, each costs a call
 * into psycopg and a copy into a bytes object (about 0.5 s of CPU per
 * 1,000,000 short rows), which on a small machine competes with the two
 * servers. Here each message goes from PQgetCopyData straight to
 * PQputCopyData (https://www.postgresql.org/docs/current/libpq-copy.html).
 *
 * libpq is not linked: the caller passes the addresses of PQgetCopyData,
 * PQputCopyData and PQfreemem of the libpq its connections belong to (the one
 * psycopg loaded), so this module builds with nothing but Python's headers.
 * The connections' states (COPY OUT, COPY IN, blocking mode for the target)
 * are the caller's business: see ferry/connectors/pg_copyout.py.
 *
 * pump_lines does the same from MariaDB/MySQL: the server renders each row
 * as one COPY text line (ferry/connectors/mysql_copytext.py) and the loop
 * reads them with mysql_use_result / mysql_fetch_row (functions of the
 * libmariadb mysqlclient uses, passed the same way) into PQputCopyData.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>

typedef int (*get_copy_data_fn)(void *conn, char **buffer, int async);
typedef int (*put_copy_data_fn)(void *conn, const char *buffer, int nbytes);
typedef void (*freemem_fn)(void *ptr);

/* pump(source, target, get, put, free) -> code
 *
 * code: -1 the source's COPY ended, -2 the source failed (PQgetCopyData's
 * codes), -3 the target refused a message (PQputCopyData returned -1).
 */
static PyObject *
pump(PyObject *self, PyObject *args)
{
    unsigned long long source, target, get_addr, put_addr, free_addr;
    if (!PyArg_ParseTuple(args, "KKKKK", &source, &target, &get_addr, &put_addr, &free_addr))
        return NULL;
    if (!source || !target || !get_addr || !put_addr || !free_addr) {
        PyErr_SetString(PyExc_ValueError, "pump needs two connections and three libpq functions");
        return NULL;
    }
    get_copy_data_fn get = (get_copy_data_fn)(uintptr_t)get_addr;
    put_copy_data_fn put = (put_copy_data_fn)(uintptr_t)put_addr;
    freemem_fn release = (freemem_fn)(uintptr_t)free_addr;
    void *src = (void *)(uintptr_t)source, *dst = (void *)(uintptr_t)target;
    int code = -1;

    Py_BEGIN_ALLOW_THREADS
    for (;;) {
        char *buffer = NULL;
        int size = get(src, &buffer, 0);    /* blocks until a message, the end or an error */
        if (size < 0) {
            code = size;
            break;
        }
        if (size == 0)                      /* not returned when blocking; be safe */
            continue;
        int queued = put(dst, buffer, size);
        release(buffer);
        if (queued != 1) {
            code = -3;
            break;
        }
    }
    Py_END_ALLOW_THREADS

    return PyLong_FromLong(code);
}

typedef int (*real_query_fn)(void *mysql, const char *query, unsigned long length);
typedef void *(*use_result_fn)(void *mysql);
typedef char **(*fetch_row_fn)(void *result);
typedef unsigned long *(*fetch_lengths_fn)(void *result);
typedef void (*free_result_fn)(void *result);
typedef unsigned int (*errno_fn)(void *mysql);
typedef const char *(*error_fn)(void *mysql);

#define LINES_BUFFER (64 * 1024)

/* Append line + newline to buffer, sending the buffer first when full;
 * 1 when queued, 0 when PQputCopyData refused. */
static int
put_line(put_copy_data_fn put, void *dst, char *buffer, size_t *used, const char *line, unsigned long length)
{
    if (*used + length + 1 > LINES_BUFFER) {
        if (*used && put(dst, buffer, (int)*used) != 1)
            return 0;
        *used = 0;
        if (length + 1 > LINES_BUFFER)      /* a long line goes on its own */
            return put(dst, line, (int)length) == 1 && put(dst, "\n", 1) == 1;
    }
    memcpy(buffer + *used, line, length);
    buffer[*used + length] = '\n';
    *used += length + 1;
    return 1;
}

/* pump_lines(mysql, query, target, put, (real_query, use_result, fetch_row,
 *            fetch_lengths, free_result, errno, error))
 *     -> (code, errno, message)
 *
 * mysql: mysqlclient's native connection (a capsule); query: one SELECT of
 * one column, a COPY text line per row. code: 0 every line sent, -1 the
 * MySQL query failed (errno, message: the client's bytes), -3 the target refused a message,
 * -4 a line was NULL (the server could not render the row).
 */
static PyObject *
pump_lines(PyObject *self, PyObject *args)
{
    PyObject *capsule;
    const char *query;
    Py_ssize_t query_length;
    unsigned long long target, put_addr, fn[7];
    if (!PyArg_ParseTuple(args, "Oy#KK(KKKKKKK)", &capsule, &query, &query_length, &target, &put_addr,
                          &fn[0], &fn[1], &fn[2], &fn[3], &fn[4], &fn[5], &fn[6]))
        return NULL;
    void *mysql = PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule));
    if (!mysql)
        return NULL;
    for (int i = 0; i < 7; i++)
        if (!fn[i]) {
            PyErr_SetString(PyExc_ValueError, "pump_lines needs seven MySQL client functions");
            return NULL;
        }
    put_copy_data_fn put = (put_copy_data_fn)(uintptr_t)put_addr;
    real_query_fn real_query = (real_query_fn)(uintptr_t)fn[0];
    use_result_fn use_result = (use_result_fn)(uintptr_t)fn[1];
    fetch_row_fn fetch_row = (fetch_row_fn)(uintptr_t)fn[2];
    fetch_lengths_fn fetch_lengths = (fetch_lengths_fn)(uintptr_t)fn[3];
    free_result_fn free_result = (free_result_fn)(uintptr_t)fn[4];
    errno_fn error_number = (errno_fn)(uintptr_t)fn[5];
    error_fn error_text = (error_fn)(uintptr_t)fn[6];
    void *dst = (void *)(uintptr_t)target;
    char *buffer = PyMem_RawMalloc(LINES_BUFFER);
    if (!buffer)
        return PyErr_NoMemory();
    int code = 0;
    unsigned int mysql_errno = 0;
    char message[512] = "";
    size_t used = 0;

    Py_BEGIN_ALLOW_THREADS
    void *result = NULL;
    if (real_query(mysql, query, (unsigned long)query_length) != 0 || !(result = use_result(mysql))) {
        code = -1;
    } else {
        char **row;
        while ((row = fetch_row(result)) != NULL) {
            unsigned long length = fetch_lengths(result)[0];
            if (!row[0]) {
                code = -4;
                break;
            }
            if (!put_line(put, dst, buffer, &used, row[0], length)) {
                code = -3;
                break;
            }
        }
        if (code == 0 && used && put(dst, buffer, (int)used) != 1)
            code = -3;
        if (code == 0 && error_number(mysql) != 0)     /* fetch_row ended on an error */
            code = -1;
        free_result(result);                            /* reads what is left of an early stop */
    }
    if (code == -1) {
        mysql_errno = error_number(mysql);
        snprintf(message, sizeof message, "%s", error_text(mysql));
    }
    Py_END_ALLOW_THREADS

    PyMem_RawFree(buffer);
    return Py_BuildValue("iIy", code, mysql_errno, message);
}

static PyMethodDef methods[] = {
    {"pump", pump, METH_VARARGS,
     "pump(source, target, get, put, free) -> code: move a COPY OUT into a COPY IN."},
    {"pump_lines", pump_lines, METH_VARARGS,
     "pump_lines(mysql, query, target, put, functions) -> (code, errno, message)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pgpump", "libpq COPY OUT -> COPY IN in C.", -1, methods,
};

PyMODINIT_FUNC
PyInit__pgpump(void)
{
    return PyModule_Create(&module);
}
