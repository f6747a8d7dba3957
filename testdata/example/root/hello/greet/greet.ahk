MsgBox, Hello from 1.0.0
