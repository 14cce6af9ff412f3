/* cmd_query.c */
