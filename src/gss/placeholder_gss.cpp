// module gss
