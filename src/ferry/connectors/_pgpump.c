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
 * are the caller's business: see ferry/connectors/pg_pump.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

typedef int (*get_copy_data_fn)(void *conn, char **buffer, int async);
typedef int (*put_copy_data_fn)(void *conn, const char *buffer, int nbytes);
typedef void (*freemem_fn)(void *ptr);

/* pump(source, target, get, put, free) -> (code, messages, bytes)
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
    long long messages = 0, bytes = 0;
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
        messages++;
        bytes += size;
    }
    Py_END_ALLOW_THREADS

    return Py_BuildValue("iLL", code, messages, bytes);
}

static PyMethodDef methods[] = {
    {"pump", pump, METH_VARARGS,
     "pump(source, target, get, put, free) -> (code, messages, bytes): move a COPY OUT into a COPY IN."},
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
