"""Every user-facing message of libpush, in one place, in English and Chinese.

Each entry is ``id: {"en": (message, hint), "zh": (message, hint)}``; ``{name}`` fields are
filled from the values the code passes. The language is ``zh`` when ``LIBPUSH_LANG`` or the
locale starts with ``zh``, English otherwise. Adding a language is adding a column here.
"""
from __future__ import annotations

import locale
import os

MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    # --- tables and sources -------------------------------------------------------------------
    "table_unreadable": {
        "en": ("Cannot read the table {path}: {error}.", "Give a readable table file, or leave out --table for the built-in 2015 table."),
        "zh": ("无法读取配置表 {path}：{error}。", "请提供可读的配置表文件，或不加 --table 使用内置的2015年配置表。")},
    "table_malformed": {
        "en": ("The table {path} is malformed: {error}.", "Fix the table file; `libpush table --json` shows the expected shape."),
        "zh": ("配置表 {path} 格式有误：{error}。", "请修正配置表；`libpush table --json` 显示正确格式。")},
    "table_row_unknown": {
        "en": ("No table row {ref!r}.", "Use a row number 1-14 or one of: {keys}."),
        "zh": ("配置表中没有 {ref!r} 这一行。", "请使用序号1-14或以下名称之一：{keys}。")},
    "source_missing": {
        "en": ("The source folder {path} does not exist.", "Give the folder that holds the collection folders (`libpush sample OUT` makes one)."),
        "zh": ("源文件夹 {path} 不存在。", "请指定包含各资源类型文件夹的目录（`libpush sample OUT` 可生成示例）。")},
    "source_empty": {
        "en": ("The source folder {path} holds no collection folder.", "Name each collection folder after a table key ({keys})."),
        "zh": ("源文件夹 {path} 中没有资源类型文件夹。", "请按配置表名称命名各文件夹（{keys}）。")},
    "source_unknown_folder": {
        "en": ("{path} is not a collection of the table.", "Rename it to one of: {keys}, or move it out of the source folder."),
        "zh": ("{path} 不是配置表中的资源类型。", "请改名为以下之一：{keys}，或将其移出源文件夹。")},
    "metadata_malformed": {
        "en": ("{path}, line {line}: {error}.", "Fix that line (UTF-8 CSV; see docs/FORMAT.md, 'Source tree') and run again."),
        "zh": ("{path} 第 {line} 行：{error}。", "请修正该行（UTF-8 编码的CSV，见 docs/FORMAT.md）后重试。")},
    "metadata_file_missing": {
        "en": ("{path}, line {line}: the file {file} is listed but not there.", "Add the file or remove it from the line."),
        "zh": ("{path} 第 {line} 行：列出的文件 {file} 不存在。", "请补上该文件或从该行删除。")},
    "source_bad_name": {
        "en": ("{path}: {reason}.", "Rename the file; names must work on Windows, FAT32 and in 7z archives."),
        "zh": ("{path}：{reason}。", "请重命名该文件；文件名须能在 Windows、FAT32 和 7z 压缩包中使用。")},
    "source_special_file": {
        "en": ("{path} is a link or special file, not a regular file.", "Replace it with the file itself or move it out of the source folder."),
        "zh": ("{path} 是链接或特殊文件，不是普通文件。", "请换成文件本身，或将其移出源文件夹。")},
    # --- bundles ------------------------------------------------------------------------------
    "bundle_exists": {
        "en": ("{path} already exists and is not empty.", "Choose a new folder for the bundle, or delete the old one first."),
        "zh": ("{path} 已存在且不为空。", "请为资源包选择新的文件夹，或先删除旧的。")},
    "bundle_not_found": {
        "en": ("{path} is not a libpush bundle (no {missing}).", "Give the bundle folder or drive root that holds bagit.txt and libpush.json."),
        "zh": ("{path} 不是 libpush 资源包（缺少 {missing}）。", "请指定包含 bagit.txt 和 libpush.json 的资源包文件夹或硬盘根目录。")},
    "bundle_format": {
        "en": ("{path} uses bundle format {found}; this libpush reads format {expected}.", "Use a libpush release that matches the bundle."),
        "zh": ("{path} 的资源包格式为 {found}，本程序支持格式 {expected}。", "请使用与资源包匹配的 libpush 版本。")},
    "bundle_damaged": {
        "en": ("The bundle {path} is damaged: {count} problem(s), first: {first}.", "Run `libpush verify {path}` for the full list, then get a good copy of the damaged files."),
        "zh": ("资源包 {path} 已损坏：共 {count} 处问题，第一处：{first}。", "运行 `libpush verify {path}` 查看完整列表，再取得损坏文件的完好副本。")},
    "shard_size_too_small": {
        "en": ("--shard-size {size} is too small.", "Use at least 1MB (the default, 4GB, suits FAT32 drives)."),
        "zh": ("--shard-size {size} 太小。", "请至少使用 1MB（默认 4GB，适合 FAT32 硬盘）。")},
    "size_unreadable": {
        "en": ("Cannot read the size {text!r}.", "Write a number with a unit, e.g. 4GB, 3.5GiB, 2TB, 500MB."),
        "zh": ("无法识别大小 {text!r}。", "请写数字加单位，例如 4GB、3.5GiB、2TB、500MB。")},
    # --- install ------------------------------------------------------------------------------
    "target_inside": {
        "en": ("The target {target} lies inside {other}.", "Choose a target folder outside the source and the bundle."),
        "zh": ("目标文件夹 {target} 位于 {other} 之内。", "请选择源文件夹和资源包之外的目标文件夹。")},
    "target_other_bundle": {
        "en": ("{target} holds a library of bundle {found}, not {expected}.", "Install into an empty folder, or give the drives of the installed release."),
        "zh": ("{target} 中已安装资源包 {found}，而不是 {expected}。", "请安装到空文件夹，或使用已安装版本的硬盘。")},
    "target_not_library": {
        "en": ("{path} is not an installed library (no catalog.db).", "Give the folder you installed into with `libpush install`."),
        "zh": ("{path} 不是已安装的数字图书馆（缺少 catalog.db）。", "请指定用 `libpush install` 安装到的文件夹。")},
    "member_corrupt": {
        "en": ("{count} file(s) in the bundle did not match their digest and were not installed; first: {first}.", "Get a good copy of the drive, then run the same install again, or `libpush repair`."),
        "zh": ("资源包中有 {count} 个文件校验不符，未予安装；第一个：{first}。", "请取得完好的硬盘副本后重新运行安装，或运行 `libpush repair`。")},
    "shards_missing": {
        "en": ("{count} shard(s) needed are not on the drive(s) given; first: {first}.", "Give the drive(s) holding them (`libpush status TARGET` lists them) and run the same command again; what is installed stays."),
        "zh": ("所需的 {count} 个分卷不在给定的硬盘上；第一个：{first}。", "请提供存有这些分卷的硬盘（`libpush status 目标文件夹` 可列出），再运行同一命令；已安装的内容会保留。")},
    "disk_full": {
        "en": ("The disk holding {path} is full.", "Free some space (or choose another target) and run the same command again; it continues where it stopped."),
        "zh": ("{path} 所在磁盘已满。", "请腾出空间（或换目标文件夹）后重新运行同一命令，将从中断处继续。")},
    "io_error": {
        "en": ("Reading or writing {path} failed: {error}.", "Check that the drive is still connected, then run the same command again; it continues where it stopped."),
        "zh": ("读写 {path} 失败：{error}。", "请检查硬盘是否仍连接，然后重新运行同一命令，将从中断处继续。")},
    # --- viewer -------------------------------------------------------------------------------
    "no_display": {
        "en": ("No display is available for a window (no DISPLAY or Wayland session).", "Open {url} in a browser instead; the library is being served there."),
        "zh": ("没有可用的图形界面，无法打开窗口。", "请在浏览器中打开 {url}，数字图书馆正在该地址提供服务。")},
    "no_window_backend": {
        "en": ("The desktop window could not start: {error}.", "Open {url} in a browser instead; the library is being served there."),
        "zh": ("无法打开桌面窗口：{error}。", "请在浏览器中打开 {url}，数字图书馆正在该地址提供服务。")},
    "port_busy": {
        "en": ("Port {port} on {host} is already in use.", "Stop the other program or choose another port with --port."),
        "zh": ("{host} 的端口 {port} 已被占用。", "请关闭占用该端口的程序，或用 --port 指定其他端口。")},
    # --- summaries the county librarian reads (the second element is unused: no hint) ---------
    "install_plan": {
        "en": ("Installing {files} file(s), {size}, into {target}.", ""),
        "zh": ("正在安装 {files} 个文件，共 {size}，到 {target}。", "")},
    "install_done": {
        "en": ("Installed {files} file(s), {size} in {seconds:.1f} s ({rate}/s); {already} were already in place.", ""),
        "zh": ("已安装 {files} 个文件，共 {size}，用时 {seconds:.1f} 秒（{rate}/秒）；另有 {already} 个文件此前已安装。", "")},
    "verify_ok": {
        "en": ("{path}: no problems ({what}).", ""),
        "zh": ("{path}：未发现问题（{what}）。", "")},
    "verify_problems": {
        "en": ("{path}: {count} problem(s) found.", ""),
        "zh": ("{path}：发现 {count} 处问题。", "")},
    "view_serving": {
        "en": ("Serving the library at {url}  (Ctrl-C stops)", ""),
        "zh": ("数字图书馆已在 {url} 开放访问（按 Ctrl-C 停止）", "")},
    "status_line": {
        "en": ("{target}: release {release}, {installed_files} of {files} files installed ({installed_size} of {size}).", ""),
        "zh": ("{target}：版本 {release}，已安装 {installed_files}/{files} 个文件（{installed_size}/{size}）。", "")},
    # --- viewer (serve, search index) ---------------------------------------------------------
    "bind_failed": {
        "en": ("Cannot listen on {host} port {port}: {error}.", "Choose another --host or --port (ports below 1024 need administrator rights)."),
        "zh": ("无法在 {host} 的端口 {port} 上提供服务：{error}。", "请用 --host 或 --port 另选地址或端口（1024 以下的端口需要管理员权限）。")},
    "search_index_rebuilding": {
        "en": ("The search index in {path} is missing or was built by another version; rebuilding it now (this writes catalog.db once, before serving).", "This happens once; later starts are immediate."),
        "zh": ("{path} 中的搜索索引缺失或由其他版本生成，正在重建（仅在开始服务前写入 catalog.db 一次）。", "只需重建一次，以后启动无需等待。")},
    "search_index_rebuilt": {
        "en": ("Search index rebuilt: {items} items in {seconds} s.", ""),
        "zh": ("搜索索引已重建：共 {items} 项，用时 {seconds} 秒。", "")},
    "search_index_unavailable": {
        "en": ("Could not rebuild the search index in {path}: {error}. Browsing works; search is off.", "Run `libpush view` once with write access to the library folder to turn search on."),
        "zh": ("无法重建 {path} 中的搜索索引：{error}。可以浏览，但检索不可用。", "请以对该文件夹有写权限的身份运行一次 `libpush view` 以启用检索。")},
}


def language() -> str:
    """'zh' when LIBPUSH_LANG or the locale says Chinese, else 'en'."""
    wanted = os.environ.get("LIBPUSH_LANG") or _locale_name()
    return "zh" if wanted.lower().startswith("zh") else "en"


def _locale_name() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if os.environ.get(var):
            return os.environ[var]
    try:  # Windows has no LANG: ask the system
        return locale.getlocale()[0] or ""
    except ValueError:
        return ""


def _entry(code: str, lang: str | None) -> tuple[str, str]:
    entry = MESSAGES[code]
    return entry.get(lang or language()) or entry["en"]


def text(code: str, lang: str | None = None, **values) -> str:
    return _entry(code, lang)[0].format(**values)


def hint(code: str, lang: str | None = None, **values) -> str:
    return _entry(code, lang)[1].format(**values)
