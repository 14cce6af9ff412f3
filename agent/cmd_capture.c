/* cmd_capture.c */
