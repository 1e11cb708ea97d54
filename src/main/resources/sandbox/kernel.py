# Spindle's Python kernel: one long-lived process per sandbox session, started by BubblewrapSandbox inside
# bwrap. It reads one JSON request per line and answers one JSON reply per line with the same id:
#   {"id", "op": "execute", "code"}  -> {"id", "logs", "error", "images": [base64 PNG], "files": [{"name", "size"}]}
#   {"id", "op": "put", "name", "data": base64, "append"} -> {"id"}
#   {"id", "op": "read", "name", "offset", "length"}     -> {"id", "data": base64, "size"}
# A request that fails answers {"id", "failure": text}. The kernel ends when its stdin closes.
import ast, base64, errno, io, json, os, signal, stat, sys, traceback, warnings

DATA = "/mnt/data"
MAX_LOG_CHARS = 100_000

# The protocol keeps private copies of stdin and stdout; the code's own stdin is empty, and everything it (or a
# process it starts) writes to fd 1 or 2 lands in a capture file that becomes the cell's logs.
requests = os.fdopen(os.dup(0), "rb")
replies = os.fdopen(os.dup(1), "wb")
null = os.open("/dev/null", os.O_RDONLY)
os.dup2(null, 0)
os.close(null)
capture = os.open("/tmp/.spindle-output", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.unlink("/tmp/.spindle-output")
os.dup2(capture, 1)
os.dup2(capture, 2)
sys.stdin = open(os.devnull)
sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), encoding="utf-8", errors="replace", write_through=True)
sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", buffering=0), encoding="utf-8", errors="replace", write_through=True)
warnings.filterwarnings("ignore", message=".*non-GUI backend.*")
warnings.filterwarnings("ignore", message=".*non-interactive.*")


def lock_down():
    """A seccomp filter under the namespaces: no tracing, kernel keyrings, mounts, new namespaces or non-Unix sockets."""
    try:
        import seccomp, socket
    except ImportError:
        return False
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in ("ptrace", "process_vm_readv", "process_vm_writev", "bpf", "perf_event_open", "userfaultfd", "keyctl",
                 "add_key", "request_key", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "swapon",
                 "swapoff", "reboot", "kexec_load", "init_module", "finit_module", "delete_module"):
        try:
            rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError, OSError):
            pass  # not a system call on this architecture
    rules.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    rules.load()
    return True


def files_now():
    """Regular files directly under /mnt/data: name -> (size, mtime, inode), read without following links."""
    found = {}
    with os.scandir(DATA) as entries:
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                found[entry.name] = (info.st_size, info.st_mtime_ns, info.st_ino)
    return found


def take_logs():
    size = os.lseek(capture, 0, os.SEEK_END)
    os.lseek(capture, 0, os.SEEK_SET)
    raw = os.read(capture, min(size, MAX_LOG_CHARS * 4))
    os.ftruncate(capture, 0)
    os.lseek(capture, 0, os.SEEK_SET)
    text = raw.decode("utf-8", errors="replace")
    if len(text) > MAX_LOG_CHARS or size > len(raw):
        text = text[:MAX_LOG_CHARS] + "\n[output truncated: %d bytes in all]" % size
    return text


def take_figures():
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    images = []
    for number in pyplot.get_fignums():
        buffer = io.BytesIO()
        try:
            pyplot.figure(number).savefig(buffer, format="png")
            images.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
        except Exception:
            traceback.print_exc()
    pyplot.close("all")
    return images


namespace = {"__name__": "__main__", "__builtins__": __builtins__}


def run_cell(code):
    """Runs the code as a notebook cell: the value of a final expression is printed, as Jupyter shows it."""
    tree = ast.parse(code, "<cell>", "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, "<cell>", "exec"), namespace)
    if last is not None:
        value = eval(compile(last, "<cell>", "eval"), namespace)
        if value is not None:
            namespace["_"] = value
            print(repr(value))


def error_text(error):
    """The exception as Python prints it, without the kernel's own frames."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != "<cell>":
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb)).rstrip("\n")


def execute(request):
    before = files_now()
    take_logs()
    error = None
    # SIGINT (Spindle's interrupt) may only land inside the cell; one sent before it started is dropped.
    while signal.SIGINT in signal.sigpending():
        signal.sigwait([signal.SIGINT])
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
        try:
            run_cell(request["code"])
        finally:
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
    except BaseException as e:  # SystemExit and KeyboardInterrupt too: the session goes on
        error = error_text(e)
    sys.stdout.flush()
    sys.stderr.flush()
    images = take_figures()
    after = files_now()
    changed = [{"name": name, "size": now[0]} for name, now in sorted(after.items()) if before.get(name) != now]
    return {"logs": take_logs(), "error": error, "images": images, "files": changed}


def check_name(name):
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError("bad file name")
    return os.path.join(DATA, name)


def put(request):
    path = check_name(request["name"])
    data = base64.b64decode(request["data"])
    if request.get("append"):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK)
    else:
        try:
            os.unlink(path)  # whatever the code left under this name, a link or a FIFO included
        except FileNotFoundError:
            pass
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    return {}


def read(request):
    path = check_name(request["name"])
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "is a symbolic link, not a file") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.lseek(fd, int(request["offset"]), os.SEEK_SET)
        wanted = int(request["length"])
        chunks = []
        while wanted > 0:
            chunk = os.read(fd, wanted)
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
        return {"data": base64.b64encode(b"".join(chunks)).decode("ascii"), "size": info.st_size}
    finally:
        os.close(fd)


OPERATIONS = {"execute": execute, "put": put, "read": read}


def failure_text(error):
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def main():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
    hello = {"ready": True, "seccomp": lock_down()}
    replies.write(json.dumps(hello).encode() + b"\n")
    replies.flush()
    for line in requests:
        request = None
        try:
            request = json.loads(line)
            reply = OPERATIONS[request["op"]](request)
        except BaseException as e:
            reply = {"failure": failure_text(e)}
        reply["id"] = request.get("id") if isinstance(request, dict) else None
        replies.write(json.dumps(reply).encode() + b"\n")
        replies.flush()


main()
