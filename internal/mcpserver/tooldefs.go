package mcpserver

import "github.com/modelcontextprotocol/go-sdk/mcp"

// The tools' public definitions: name, title, description and the four
// annotations that tell a client what a tool does (MCP "Tool annotations":
// readOnlyHint, destructiveHint, idempotentHint, openWorldHint). Every hint
// is set explicitly, even where the spec's default would say the same, so
// that no tool's behaviour is left to a default. The scope check reads the
// same definitions (see toolNeedsWrite in scopes.go): a tool that is not
// read-only needs a writing scope unless it only changes the sign-in.
//
// Open world here means reaching beyond the user's own Drive and account:
// other people, anyone with a link, any address on the web.

// toolDefinitions are every tool New registers; a test fails when New
// registers one that is not here.
var toolDefinitions = []*mcp.Tool{
	startGoogleAuthTool,
	checkDriveAuthTool,
	signOutTool,
	uploadFileToDriveTool,
	createDriveFileTool,
	createDriveFolderTool,
	listDriveItemsTool,
	searchDriveFilesTool,
	getDriveFileContentTool,
	shareDriveFilesTool,
	makeDriveFilesPublicTool,
	// The file lifecycle (tool_lifecycle.go).
	updateDriveFileTool,
	moveDriveFileTool,
	renameDriveFileTool,
	copyDriveFileTool,
	trashDriveFilesTool,
	deleteDriveFilesTool,
	getDriveFileMetadataTool,
	listDrivePermissionsTool,
	updateDrivePermissionTool,
	removeDrivePermissionTool,
	listSharedDrivesTool,
	// Downloads (tool_download.go).
	downloadDriveFileTool,
	// Folder upload (tool_folder_upload.go).
	uploadFolderToDriveTool,
	// Upload sessions for remote clients (tool_uploadsession.go).
	createUploadSessionTool,
	getUploadStatusTool,
}

var startGoogleAuthTool = &mcp.Tool{
	Name:  "start_google_auth",
	Title: "Connect a Google account",
	Description: "Returns a Google sign-in link for this session. Open it in a browser and consent; afterwards every " +
		"Drive tool in this session acts as that account, with no email argument needed.",
	// Not read-only: a finished login changes which account this session
	// acts as; each call records a new pending login (not idempotent). It
	// only reaches the user's own Google account.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(false), IdempotentHint: false, OpenWorldHint: ptr(false)},
}

var checkDriveAuthTool = &mcp.Tool{
	Name:        "check_drive_auth",
	Title:       "Which Google account is used",
	Description: "Says which Google account the Drive tools act as, how it was authenticated, its scopes and token expiry.",
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

var signOutTool = &mcp.Tool{
	Name:        "sign_out",
	Title:       "Disconnect this session",
	Description: "Forgets which Google account this session is bound to. With revoke: true also revokes drivemcp's access at Google and deletes the stored grant.",
	// Destructive: revoke deletes the stored grant at Google and here.
	// Idempotent: signing out again leaves the same state.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

var uploadFileToDriveTool = &mcp.Tool{
	Name:  "upload_file_to_drive",
	Title: "Upload a local file to Google Drive",
	Description: "Streams a local file (inside the server's upload roots) to Google Drive with a resumable upload, " +
		"reports progress, survives network errors, and verifies the checksum Drive reports. " +
		"if_exists says what to do when the folder already has a file of that name: new (default), update, skip_unchanged or fail.",
	// Each call may make another file (if_exists new): not idempotent.
	// if_exists update replaces a same-named file's content: destructive.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: false, OpenWorldHint: ptr(false)},
}

var createDriveFileTool = &mcp.Tool{
	Name:  "create_drive_file",
	Title: "Create a Google Drive file from content",
	Description: "Creates a file in Google Drive from text (content), bytes (content_base64), or the body of an http(s) URL (fileUrl), " +
		"which is streamed into Drive. Give mime_type application/vnd.google-apps.document to turn text, Markdown (a file_name ending in .md) or HTML (.html) into a Google Doc, " +
		"or application/vnd.google-apps.spreadsheet to turn CSV (or TSV, a file_name ending in .tsv) into a Google Sheet. " +
		"if_exists says what to do when the folder already has a file of that name: new (default), update, skip_unchanged or fail.",
	// Each call may make another file; if_exists update replaces a
	// same-named file's content (destructive); fileUrl reaches any http(s)
	// address on the web, hence open world.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: false, OpenWorldHint: ptr(true)},
}

var createDriveFolderTool = &mcp.Tool{
	Name:  "create_drive_folder",
	Title: "Create a Google Drive folder",
	Description: "Creates a folder named folder_name in parent_folder_id (default: My Drive). With folder_path instead, " +
		"makes sure the whole path exists (like mkdir -p), creating only what is missing, and puts folder_name (if given) at its end.",
	// folder_name makes another folder on each call (folder_path alone is
	// like mkdir -p, but the tool as a whole is not idempotent).
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(false), IdempotentHint: false, OpenWorldHint: ptr(false)},
}

var listDriveItemsTool = &mcp.Tool{
	Name:        "list_drive_items",
	Title:       "List a Google Drive folder",
	Description: "Lists the files and folders in a Drive folder (default: My Drive's root), folders first, a page at a time.",
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

var searchDriveFilesTool = &mcp.Tool{
	Name:  "search_drive_files",
	Title: "Search Google Drive",
	Description: "Finds Drive files. Plain words search names and contents; a Drive query " +
		"(name contains 'x', mimeType = 'application/pdf', '<folder id>' in parents, modifiedTime > '2026-01-01T00:00:00') is passed to Drive as it is.",
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

var getDriveFileContentTool = &mcp.Tool{
	Name:  "get_drive_file_content",
	Title: "Read a Google Drive file",
	Description: "Returns a file's text: text files as they are, Google Docs as Markdown (or plain text), Sheets as CSV (first sheet), " +
		"Slides as plain text. Binary files (images, PDFs, archives) return their metadata and link only. Large texts come a page at a time " +
		"(max_bytes, default 256 KiB): a page that is not the last ends with \"more from offset N\"; call again with that offset to read on.",
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

var shareDriveFilesTool = &mcp.Tool{
	Name:  "share_drive_files",
	Title: "Share Google Drive files with people",
	Description: "Gives each email address the role (reader, commenter or writer) on each file, and says for every file and " +
		"person whether it worked: one failure does not stop the others.",
	// Adds permissions (never removes one); giving the same role again
	// changes nothing; it reaches other people, hence open world.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(true)},
}

var makeDriveFilesPublicTool = &mcp.Tool{
	Name:  "make_drive_files_public",
	Title: "Share Google Drive files by link",
	Description: "Lets anyone with the link open the files (public: true, the default; role reader or commenter), " +
		"or removes that link access again (public: false). The files do not become searchable on the web.",
	// public: false removes link access (destructive); anyone on the web
	// with the link can open the files (open world).
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(true)},
}

// The file lifecycle: update in place, move, rename, copy, trash, delete,
// metadata (handlers in tool_lifecycle.go).

var updateDriveFileTool = &mcp.Tool{
	Name:  "update_drive_file",
	Title: "Replace a Google Drive file's content",
	Description: "Uploads new content (filepath, content, content_base64 or fileUrl) as a new version of an existing file: " +
		"its id, links, sharing and history stay. Resumable and md5-verified like uploads; new_name renames it too.",
	// Overwrites the content (destructive); the same content again leaves
	// the same file (idempotent); fileUrl reaches the web (open world).
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(true)},
}

var moveDriveFileTool = &mcp.Tool{
	Name:        "move_drive_file",
	Title:       "Move a Google Drive file",
	Description: "Moves a file or folder into another folder, given by folder_id or by folder_path (created where missing).",
	// Moving again to the same folder changes nothing.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

var renameDriveFileTool = &mcp.Tool{
	Name:        "rename_drive_file",
	Title:       "Rename a Google Drive file",
	Description: "Gives a file or folder a new name; its id, content and sharing stay.",
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

var copyDriveFileTool = &mcp.Tool{
	Name:        "copy_drive_file",
	Title:       "Copy a Google Drive file",
	Description: "Makes a copy of a file (not a folder), named new_name (default: Drive's \"Copy of …\"), in folder_id or folder_path (default: the original's folder).",
	// Each call makes another copy: not idempotent.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(false), IdempotentHint: false, OpenWorldHint: ptr(false)},
}

var trashDriveFilesTool = &mcp.Tool{
	Name:  "trash_drive_files",
	Title: "Move Google Drive files to the trash",
	Description: "Moves files or folders to Drive's trash (restore: true takes them out again). Drive deletes trashed files after 30 days; " +
		"only a file's owner may trash it. Says for every file whether it worked.",
	// Trashing removes files from view (destructive); doing it twice
	// leaves the same state.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

var deleteDriveFilesTool = &mcp.Tool{
	Name:  "delete_drive_files",
	Title: "Delete Google Drive files permanently",
	Description: "Deletes files or folders for good, skipping the trash: they cannot be restored. Only with confirm: true; " +
		"prefer trash_drive_files unless the user asked for permanent deletion. Says for every file whether it worked.",
	// Permanent (destructive); a second call finds nothing more to delete.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

var getDriveFileMetadataTool = &mcp.Tool{
	Name:  "get_drive_file_metadata",
	Title: "Describe a Google Drive file",
	Description: "Returns a file's name, type, size, md5, folder and path, owners, times, links, whether it is trashed, " +
		"its shared drive, and what this account may do with it (edit, share, download, trash, delete).",
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

// Permissions and shared drives.

var listDrivePermissionsTool = &mcp.Tool{
	Name:  "list_drive_permissions",
	Title: "Who has access to a Google Drive file",
	Description: "Lists everyone with access to a file or folder: people, groups, domains and link access, with each role, " +
		"expiration time and permission_id (for update_drive_permission and remove_drive_permission).",
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

var updateDrivePermissionTool = &mcp.Tool{
	Name:  "update_drive_permission",
	Title: "Change someone's access to a Google Drive file",
	Description: "Changes the role (reader, commenter or writer) of one person's, group's or link's access to a file, by permission_id or " +
		"email_address, and optionally when that access ends (expiration_time, at most a year ahead).",
	// Lowering a role takes access away (destructive); setting the same
	// role again changes nothing; it concerns other people (open world).
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(true)},
}

var removeDrivePermissionTool = &mcp.Tool{
	Name:  "remove_drive_permission",
	Title: "Remove someone's access to a Google Drive file",
	Description: "Removes one person's, group's, domain's or link's access to a file, by permission_id or email_address. " +
		"The owner's access cannot be removed.",
	// Takes access away (destructive); removing it again finds it gone.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(true)},
}

var listSharedDrivesTool = &mcp.Tool{
	Name:  "list_shared_drives",
	Title: "List Google shared drives",
	Description: "Lists the shared drives the account is a member of, with the ids that drive_id takes " +
		"(list_drive_items, search_drive_files, folder_path). Needs a readonly or full grant.",
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

// download_drive_file (tool_download.go).

var downloadDriveFileTool = &mcp.Tool{
	Name:  "download_drive_file",
	Title: "Download a Google Drive file",
	Description: "Downloads a Drive file. Over stdio it saves the file on this computer inside the download folder (--download-root, " +
		"default ~/Downloads), resuming after a dropped connection and checking Drive's md5; it never replaces an existing file unless overwrite is true. " +
		"Over HTTP it returns a link to drivemcp that downloads the file for the next 15 minutes, and writes nothing on the server. " +
		"Google Docs, Sheets and Slides are exported: export_format pdf, docx, xlsx, pptx, csv, md or txt (default docx, xlsx, pptx).",
	// Writes only outside Drive (the user's own disk), which overwrite can
	// replace: not read-only, destructive; the same call again leaves the
	// same file (idempotent). It reaches only the user's own Drive.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

// Folder upload and sync (upload_folder_to_drive).

var uploadFolderToDriveTool = &mcp.Tool{
	Name:  "upload_folder_to_drive",
	Title: "Upload a local folder to Google Drive",
	Description: "Mirrors a local folder (inside the server's upload roots) with everything below it into a Drive folder: " +
		"folders are created once, files uploaded in parallel (concurrency, default 4, at most 16), each resumable and md5-verified. " +
		"By default (if_exists skip_unchanged) a file whose Drive copy has the same md5 is skipped and a changed one updated in place, " +
		"so a second run with nothing changed uploads nothing. Hidden files and symbolic links out of the folder are skipped and listed. " +
		"Answers with every file's outcome and a summary; progress is reported by bytes and files.",
	// Destructive: update and skip_unchanged replace the content of
	// same-named files (Drive keeps the older versions). Idempotent: a
	// second run with nothing changed changes nothing (the default mode).
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: true, OpenWorldHint: ptr(false)},
}

// Upload sessions for remote clients (tool_uploadsession.go).

var createUploadSessionTool = &mcp.Tool{
	Name:  "create_upload_session",
	Title: "Upload a large file from the user's computer",
	Description: "For a file on the user's own computer when this server runs elsewhere (HTTP): returns a drivemcp URL, valid for an hour, " +
		"to which the user's computer PUTs the bytes (a curl -T command is included), in one request or in chunks with Content-Range, " +
		"resuming after a drop as with Google's resumable uploads. The bytes stream into Drive, never through the conversation; " +
		"no base64 and no size cap. Give the exact size (and md5 if known: a mismatching file is removed). Poll get_upload_status.",
	// Creates a file (not read-only); if_exists update replaces a file's
	// content (destructive); each call opens a new session (not
	// idempotent). It writes only the user's own Drive.
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: false, DestructiveHint: ptr(true), IdempotentHint: false, OpenWorldHint: ptr(false)},
}

var getUploadStatusTool = &mcp.Tool{
	Name:        "get_upload_status",
	Title:       "Check an upload session",
	Description: "Says how many bytes of an upload session (create_upload_session) have reached Drive, or the file once it is complete.",
	Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, DestructiveHint: ptr(false), IdempotentHint: true, OpenWorldHint: ptr(false)},
}
