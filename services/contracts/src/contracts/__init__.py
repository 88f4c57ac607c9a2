"""SMart contracts from draft to client signature, employment declaration, completion."""
